package dev.trafficbus.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code trafficbus status}: what is on the bus and who reads it. */
@Command(name = "status",
        header = "Sources, subscriptions, consumer groups with their lag, the latest runs.",
        mixinStandardHelpOptions = true, version = "trafficbus status 0.1.0", sortOptions = false,
        description = {"Shows the capture sources (" + Topics.CAPTURE_PREFIX + "*: partitions, replication, retention, "
                + "records, newest record), the subscriptions (" + Topics.SUBSCRIPTION_PREFIX + "*, their definitions in "
                + Topics.SUBSCRIPTIONS + " and counters in " + Topics.SUBSCRIPTION_STATS + "), the consumer groups with "
                + "their lag per topic, and the ledgers of the latest replay runs (" + Topics.RUNS + ").",
                "Exit codes: 0 shown, 2 bad input or Kafka unreachable or refusing the credentials."})
public final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KafkaClientOptions kafka;

    @Option(names = "--json", description = "Print the status as one JSON document instead of tables.")
    boolean json;

    @Option(names = "--runs", defaultValue = "10", paramLabel = "N",
            description = "How many of the latest runs to show (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--timeout", defaultValue = "15", paramLabel = "SECONDS",
            description = "Longest wait for each answer from Kafka (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws IOException {
        if (runs < 0) {
            throw new UserInputException("--runs must be 0 or more, got " + runs);
        }
        if (timeoutSeconds < 1) {
            throw new UserInputException("--timeout must be at least 1 second, got " + timeoutSeconds);
        }
        StatusReport report = new StatusCollector(kafka.toProperties(), Duration.ofSeconds(timeoutSeconds)).collect(runs);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
            out.flush();
        } else {
            StatusText.print(report, out);
        }
        return 0;
    }
}
