package dev.trafficbus.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code trafficbus replay}: replays the captured sessions of a topic against a test server. */
@Command(name = "replay", mixinStandardHelpOptions = true, version = "trafficbus replay 0.1.0",
        description = "Replays every captured TCP session of a topic against a test server over ordinary "
                + "connections (socket engine), waiting for each answer before the next message. Follows the "
                + "topic until Ctrl-C/SIGTERM, or with --until-end stops after what the topic held at start. "
                + "Exit code 0: all replayed; 1: a session failed or nothing was replayed; 2: bad input.")
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--topic", required = true, paramLabel = "TOPIC",
            description = "Topic to replay, e.g. tb.capture.web1 or tb.sub.team-a.")
    String topic;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT",
            description = "Test server that receives the replayed sessions.")
    String target;

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers to read from.")
    String bootstrapServers;

    @Option(names = "--speed", defaultValue = "1", paramLabel = "FACTOR|max",
            description = "1 keeps the captured timing, 2.5 is 2.5 times faster, max sends as fast as the target answers (default: ${DEFAULT-VALUE}).")
    String speed;

    @Option(names = "--group", paramLabel = "NAME",
            description = "Consumer group; replayers in one group share the topic's partitions (default: trafficbus-replay-<topic>).")
    String group;

    @Option(names = "--until-end",
            description = "Stop after replaying everything the topic held at start instead of following it.")
    boolean untilEnd;

    @Option(names = "--report", paramLabel = "FILE", description = "Write the run's ledger as JSON to FILE.")
    Path report;

    @Option(names = "--response-timeout", defaultValue = "10s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Longest wait for one answer before the next message is sent; counted as response-timeout (default: ${DEFAULT-VALUE}).")
    Duration responseTimeout;

    @Option(names = "--connect-timeout", defaultValue = "5s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Longest wait for a connection to the target (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--max-connections", defaultValue = "2000", paramLabel = "N",
            description = "Connections open to the target at once; further sessions wait their turn (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--max-buffered-mb", defaultValue = "256", paramLabel = "MB",
            description = "Captured bytes waiting to be sent before reading pauses (default: ${DEFAULT-VALUE}).")
    long maxBufferedMb;

    @Option(names = "--io-threads", defaultValue = "0", paramLabel = "N",
            description = "Threads that run the connections to the target (default: one per core).")
    int ioThreads;

    @Option(names = "--drain-timeout", defaultValue = "10s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "After Ctrl-C/SIGTERM, how long running sessions may take to finish (default: ${DEFAULT-VALUE}).")
    Duration drainTimeout;

    @Override
    public Integer call() throws InterruptedException {
        ReplaySpeed replaySpeed = ReplaySpeed.parse(speed);
        InetSocketAddress targetAddress = TargetAddress.parse(target);
        if (maxConnections < 1) {
            throw new UserInputException("--max-connections must be at least 1, got " + maxConnections);
        }
        if (ioThreads < 0) {
            throw new UserInputException("--io-threads must be 0 (one per core) or more, got " + ioThreads);
        }
        if (maxBufferedMb < 1) {
            throw new UserInputException("--max-buffered-mb must be at least 1, got " + maxBufferedMb);
        }
        checkReportPath();
        TargetAddress.checkReachable(targetAddress, (int) Math.min(connectTimeout.toMillis(), Integer.MAX_VALUE));
        Properties consumerConfig = new Properties();
        consumerConfig.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        ReplayRequest request = new ReplayRequest(topic, consumerConfig, targetAddress, replaySpeed, group, untilEnd, true);
        ReplayTuning tuning = ReplayTuning.defaults().withResponseTimeout(responseTimeout)
                .withConnectTimeout(connectTimeout).withMaxConnections(maxConnections)
                .withMaxBufferedBytes(maxBufferedMb << 20).withDrainTimeout(drainTimeout).withIoThreads(ioThreads);

        SocketReplay replay = new SocketReplay(request, tuning);
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            replay.stop();
            try {
                reported.await(drainTimeout.toMillis() + 15_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-replay-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            ReplaySummary summary = replay.run();
            System.out.println(summary.summaryLine());
            System.out.flush();
            if (report != null) {
                writeReport(request, summary);
            }
            return summary.sessionsFailed() > 0 || summary.sessionsReplayed() + summary.sessionsIncomplete() == 0 ? 1 : 0;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down (Ctrl-C): the hook is running and sees the latch
            }
        }
    }

    private void checkReportPath() {
        if (report == null) {
            return;
        }
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UserInputException("--report " + report + ": directory " + parent + " does not exist");
        }
        if (Files.isDirectory(report)) {
            throw new UserInputException("--report " + report + " is a directory; give a file name");
        }
    }

    private void writeReport(ReplayRequest request, ReplaySummary summary) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("topic", request.topic());
        doc.put("target", TargetAddress.show(request.target()));
        doc.put("speed", request.speed().toString());
        doc.put("group", request.groupOrDefault());
        doc.put("untilEnd", request.untilEnd());
        doc.putAll(summary.toReport());
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), doc);
        } catch (IOException e) {
            throw new UserInputException("cannot write --report " + report + ": " + e.getMessage(), e);
        }
    }
}
