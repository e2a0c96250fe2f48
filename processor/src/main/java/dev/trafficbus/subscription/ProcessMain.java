package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.bus.ConsumerGroups;
import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.metrics.MetricsEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code trafficbus process}: runs the subscription processor until stopped (Ctrl-C or SIGTERM). */
@Command(name = "process",
        header = "Run the subscription processor (tb.capture.* -> tb.sub.<name>).",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = "Turn the capture topics (tb.capture.*) into per-subscription topics (tb.sub.<name>): "
                + "filter, sample, amplify, rate-limit and redact whole sessions. Runs until stopped.")
public final class ProcessMain implements Callable<Integer>, Subcommand {
    @Mixin
    KafkaClientOptions kafka;

    @Option(names = "--subscriptions", paramLabel = "FILE",
            description = "YAML file of subscriptions loaded into tb.subscriptions at start (added or replaced).")
    Path subscriptions;

    @Option(names = "--application-id", defaultValue = ConsumerGroups.PROCESSOR, paramLabel = "ID",
            description = "Kafka Streams application id; instances with the same id share the work (default ${DEFAULT-VALUE}).")
    String applicationId;

    @Option(names = "--metrics-port", defaultValue = "9465", paramLabel = "PORT",
            description = "Port of the Prometheus /metrics and /health endpoint; 0 picks a free port, -1 turns it off (default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--exactly-once", description = "Process with exactly-once guarantees (processing.guarantee=exactly_once_v2).")
    boolean exactlyOnce;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N", description = "Stream threads (default ${DEFAULT-VALUE}).")
    int threads;

    /** Partitions and replication of the subscription topics this command creates. */
    @Mixin
    TopicOptions topics;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Kafka Streams state directory (default: the system temp dir).")
    Path stateDir;

    @Option(names = "--held-timeout", defaultValue = "30", paramLabel = "SECONDS",
            description = "A session held for an HTTP decision expires after this long without packets (default ${DEFAULT-VALUE}).")
    int heldTimeout;

    /** Runs the command and exits with its code. */
    public static void main(String[] args) {
        System.exit(new ProcessMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new ProcessMain();
    }

    @Override
    public void prepare() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
        // ProcessorApp's stream-thread handler reports every failure itself (a refusal as the command's last line);
        // Kafka Streams would repeat it with a stack trace.
        String streamsLogger = "org.slf4j.simpleLogger.log.org.apache.kafka.streams.KafkaStreams";
        if (System.getProperty(streamsLogger) == null) {
            System.setProperty(streamsLogger, "off");
        }
    }

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || heldTimeout < 1) {
            throw new UserInputException("--threads and --held-timeout must be at least 1");
        }
        TopicSpec outputTopics = topics.spec(null, Map.of());
        List<Subscription> initial = subscriptions == null ? List.of()
                : SubscriptionFile.read("--subscriptions", subscriptions);
        ProcessorSettings settings = ProcessorSettings.defaults().withHeldIdle(Duration.ofSeconds(heldTimeout));
        ProcessorApp.Config config = new ProcessorApp.Config(kafka.toProperties(), applicationId, initial, outputTopics,
                exactlyOnce, threads, stateDir, settings, Duration.ofSeconds(5), Duration.ofSeconds(30));
        try (MetricsEndpoint metrics = new MetricsEndpoint("process")) {
            if (metricsPort >= 0) {
                metrics.serve(metricsPort);
            }
            CountDownLatch stopped = new CountDownLatch(1);
            ProcessorApp app = new ProcessorApp(config, metrics).onRefusal(stopped::countDown);
            CountDownLatch closed = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stopped.countDown();
                try {
                    closed.await();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "trafficbus-process-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                app.start();
                System.err.println("process: " + app.registry().all().size() + " subscriptions in force, reading "
                        + Topics.CAPTURES.pattern() + (metricsPort >= 0 ? ", metrics on port " + metrics.port() : "")
                        + "; Ctrl-C stops");
                stopped.await();
            } finally {
                app.close();
                printSummary(app.counters());
                closed.countDown();
            }
            if (app.refusal() != null) {
                Runtime.getRuntime().removeShutdownHook(hook);
                throw app.refusal();
            }
        }
        return 0;
    }

    private static void printSummary(ProcessorCounters counters) {
        for (Map.Entry<String, SubscriptionCounters> e : counters.subscriptions().entrySet()) {
            SubscriptionCounters c = e.getValue();
            System.err.println("process: " + e.getKey() + ": " + c.sessionsIn() + " sessions in, " + c.sessionsKept()
                    + " kept, dropped " + c.droppedByReason() + ", " + c.packetsIn() + " packets in, " + c.packetsOut()
                    + " packets out in " + c.recordsOut() + " records, "
                    + c.fieldsRedacted() + " fields redacted");
        }
        if (!counters.deadLettersByReason().isEmpty()) {
            System.err.println("process: dead letters " + counters.deadLettersByReason());
        }
    }
}
