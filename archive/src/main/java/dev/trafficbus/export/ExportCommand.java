package dev.trafficbus.export;

import dev.trafficbus.cli.DurationConverter;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.ProgressDisplay;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code trafficbus export}: writes a time window of a capture topic to a pcap file. */
@Command(name = "export",
        header = "Write a topic (or a time window of it) to a pcap file.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Writes the packets of a capture topic (tb.capture.<source> or tb.sub.<name>) to a pcap file that tcpdump,"
                + " tshark and Wireshark open: original capture timestamps (microseconds), packets in capture-time order"
                + " across partitions, Ethernet framing with synthesized MAC addresses (server side 02:00:00:00:00:01,"
                + " client side 02:00:00:00:00:02).",
            "Every packet of every record is written; --from/--to are decided per packet by its own capture time.",
            "Without --to it reads up to the end offsets at start; records that are not captured packets are counted and skipped.",
            "Exit codes: 0 done, 2 bad input (missing topic, bad time, unwritable file, unreachable broker)."
        })
public final class ExportCommand implements Callable<Integer> {
    /** How long a stop signal waits for the file to be flushed and the counters printed. */
    private static final int STOP_GRACE_SECONDS = 30;

    private final AtomicBoolean stop = new AtomicBoolean();

    @Spec
    private CommandSpec spec;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC",
            description = "Topic to export, e.g. tb.capture.web1.")
    private String topic;

    @Option(names = "--from", paramLabel = "TIME",
            description = "First capture time to export (inclusive), ISO-8601 with a zone, e.g. 2026-11-21T14:00:00Z.")
    private String from;

    @Option(names = "--to", paramLabel = "TIME",
            description = "End of the window (exclusive), ISO-8601 with a zone.")
    private String to;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "pcap file to write (replaced if it exists).")
    private Path output;

    @Option(names = "--reorder-window", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "How long (in capture time) packets wait for earlier ones of records read later before they are"
                    + " written, e.g. 1s (default), 500ms, 30s for subscription topics that hold sessions back.")
    private Duration reorderWindow;

    @Mixin
    private KafkaClientOptions kafka;

    @Override
    public Integer call() {
        TimeWindow window = TimeWindow.parse(from, to);
        PcapExporter.checkWritable(output);
        PcapExporter exporter = new PcapExporter(kafka.toProperties(), topic, window, output, reorderWindow,
                ProgressDisplay.onTerminal(), this::stopRequested);
        // Ctrl-C/SIGTERM: stop reading, close the file (valid up to the last packet) and print the counters.
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.set(true);
            try {
                reported.await(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-export-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            ExportSummary summary = exporter.run();
            spec.commandLine().getOut().println(summary.summaryLine());
            spec.commandLine().getOut().flush();
            return 0;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is running and waits for the countDown above.
            }
        }
    }

    private boolean stopRequested() {
        return stop.get();
    }
}
