package dev.trafficbus.subscription;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.TopicSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

/** {@code trafficbus subscribe}: adds or replaces subscriptions while processors run. */
@Command(name = "subscribe",
        header = "Add or replace subscriptions while the processors run.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = "Add or replace subscriptions (YAML file) in tb.subscriptions; running processors apply them at once. "
                + "A subscription's readers get READ on its topic and on their replay groups (Kafka ACLs); readers "
                + "it no longer names lose what it granted them.")
public final class SubscribeMain implements Callable<Integer>, Subcommand {
    @Mixin
    KafkaClientOptions kafka;

    @Option(names = "--file", required = true, paramLabel = "FILE", description = "YAML file with one subscription or a list.")
    Path file;

    /** Partitions and replication of the subscription topics this command creates. */
    @Mixin
    TopicOptions topics;

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Runs the command and exits with its code. */
    public static void main(String[] args) {
        System.exit(new SubscribeMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new SubscribeMain();
    }

    @Override
    public void prepare() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }

    @Override
    public Integer call() {
        List<Subscription> subs = SubscriptionFile.read("--file", file);
        Properties props = kafka.toProperties();
        SubscriptionStore store = new SubscriptionStore(props, TIMEOUT);
        TopicSpec settings = topics.spec(null, Map.of());
        store.ensureTopics(settings);
        store.ensureOutputTopics(subs.stream().map(Subscription::topic).toList(), settings);
        Map<String, String> before = store.definitions();
        SubscriptionGrants grants = SubscriptionGrants.forPut(before, subs);
        // Grant before the definition is live, so readers never see a topic they cannot read; revoke after.
        String access = grants.apply(props, TIMEOUT);
        store.put(subs);
        for (Subscription s : subs) {
            System.out.println((before.containsKey(s.name()) ? "replaced " : "subscribed ") + s.name() + " -> "
                    + s.topic() + " (sources " + String.join(", ", s.sources().stream().sorted().toList())
                    + (s.readers().isEmpty() ? "" : "; readers " + String.join(", ", s.readers().stream().sorted().toList()))
                    + ")");
        }
        if (access != null) {
            System.out.println(access);
        }
        return 0;
    }
}
