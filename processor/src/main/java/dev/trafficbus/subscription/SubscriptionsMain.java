package dev.trafficbus.subscription;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;
import dev.trafficbus.cli.KafkaClientOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code trafficbus subscriptions}: lists the subscriptions with their counters summed over every processor
 * instance, read from {@code tb.subscriptions} and {@code tb.subscription-stats} (no processor is contacted).
 */
@Command(name = "subscriptions",
        header = "List the subscriptions with their counters.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = "List subscriptions with per-subscription counters (summed over processor instances, "
                + "as of their last report, a few seconds old at most).")
public final class SubscriptionsMain implements Callable<Integer>, Subcommand {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COLUMNS = {"packets_in", "sessions_in", "sessions_kept", "packets_out", "records_out",
            "fields_redacted"};

    @Mixin
    KafkaClientOptions kafka;

    /** Runs the command and exits with its code. */
    public static void main(String[] args) {
        System.exit(new SubscriptionsMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new SubscriptionsMain();
    }

    @Override
    public void prepare() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }

    @Override
    public Integer call() throws Exception {
        SubscriptionStore store = new SubscriptionStore(kafka.toProperties(), Duration.ofSeconds(30));
        store.ensureTopics();
        Map<String, String> defs = new TreeMap<>(store.definitions());
        Map<String, long[]> totals = new TreeMap<>();
        Map<String, Map<String, Long>> dropped = new TreeMap<>();
        for (String json : store.stats().values()) {
            JsonNode n = JSON.readTree(json);
            String name = n.path("subscription").asText();
            long[] t = totals.computeIfAbsent(name, k -> new long[COLUMNS.length]);
            for (int i = 0; i < COLUMNS.length; i++) {
                t[i] += n.path(COLUMNS[i]).asLong();
            }
            Map<String, Long> d = dropped.computeIfAbsent(name, k -> new TreeMap<>());
            for (Iterator<Map.Entry<String, JsonNode>> it = n.path("sessions_dropped").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                d.merge(e.getKey(), e.getValue().asLong(), Long::sum);
            }
        }
        if (defs.isEmpty()) {
            System.out.println("no subscriptions (add one with: trafficbus subscribe --file FILE)");
            return 0;
        }
        System.out.printf("%-20s %-24s %12s %12s %12s %12s %12s %10s  %s%n", "NAME", "SOURCES", "PACKETS IN",
                "SESSIONS IN", "KEPT", "PACKETS OUT", "RECORDS OUT", "REDACTED", "DROPPED SESSIONS BY REASON");
        for (Map.Entry<String, String> e : defs.entrySet()) {
            String sources;
            try {
                sources = String.join(",", SubscriptionParser.parseOne(e.getValue()).sources().stream().sorted().toList());
            } catch (IllegalArgumentException invalid) {
                sources = "(invalid: " + invalid.getMessage() + ")";
            }
            long[] t = totals.getOrDefault(e.getKey(), new long[COLUMNS.length]);
            Map<String, Long> d = dropped.getOrDefault(e.getKey(), Map.of());
            System.out.printf("%-20s %-24s %12d %12d %12d %12d %12d %10d  %s%n", e.getKey(), sources, t[0], t[1], t[2],
                    t[3], t[4], t[5], d.isEmpty() ? "-" : d.toString().replaceAll("[{}]", ""));
        }
        return 0;
    }
}
