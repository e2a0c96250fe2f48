package dev.trafficbus.capture;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.DurationConverter;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code trafficbus forward}: captures an interface live, or imports a pcap file, into the source's capture topic. */
@Command(name = "forward",
        header = "Publish the TCP packets of a live interface or a pcap file to tb.capture.<source>.",
        mixinStandardHelpOptions = true, versionProvider = ForwardCommand.Version.class,
        sortOptions = false,
        description = {
            "Publishes the TCP packets of a live interface (--interface) or of a pcap file (--pcap) to the Kafka topic"
                + " tb.capture.<source>, keyed by connection; a record holds the packets of one connection that arrive"
                + " within --batch-window (at most --batch-max-packets), never two connections.",
            "The service port(s) decide direction: a packet to a service port is client-to-server, one from it server-to-client;"
                + " TCP packets of other ports, non-TCP packets and IP fragments are counted and skipped.",
            "Before a byte is published, the values of Authorization, Proxy-Authorization, Cookie and Set-Cookie (and of"
                + " --redact-header, --redact-pattern) are masked with '*' of the same length, in HTTP/1 requests and"
                + " responses, also when a header line is split across segments; what could not be checked is counted"
                + " as redaction-unchecked.",
            "A live capture runs until SIGINT/SIGTERM, never waits for Kafka (past --max-pending it drops and counts),"
                + " then publishes what is pending within --flush-timeout and prints the counters.",
            "Exit codes: 0 done, 1 some packets could not be published, 2 bad input (also a file cut short or damaged"
                + " part-way: what came before is published), 3 a live capture ended by itself (e.g. the interface went away)."
        })
public final class ForwardCommand implements Callable<Integer> {
    /** Exit code when some records could not be published. */
    public static final int EXIT_PUBLISH_ERRORS = 1;
    /** Exit code when a live capture ended by itself (e.g. the interface went away). */
    public static final int EXIT_CAPTURE_FAILED = 3;
    /** How long a stop signal waits for what was read to be published and the counters printed (file import). */
    private static final int STOP_GRACE_SECONDS = 30;

    @Spec
    private CommandSpec spec;

    /** Where the packets come from: exactly one of a file and an interface. */
    static final class Input {
        @Option(names = "--pcap", required = true, paramLabel = "FILE",
                description = "pcap or pcapng file to import (e.g. written by tcpdump -w), gzip-compressed or not;"
                        + " - reads standard input. Needs no libpcap. Packets of a pcapng interface whose link type"
                        + " cannot be read are skipped as link-type; a file with no readable interface is refused.")
        Path pcap;

        @Option(names = "--interface", required = true, paramLabel = "IF",
                description = "Network interface to capture live (e.g. eth0, or any); needs root or CAP_NET_RAW+CAP_NET_ADMIN.")
        String interfaceName;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Input input;

    @Option(names = "--port", required = true, split = ",", paramLabel = "PORT",
            description = "Service TCP port(s), comma-separated, e.g. 80,8080.")
    private List<Integer> ports;

    @Option(names = "--source", paramLabel = "ID",
            description = "Source id; records go to tb.capture.<ID> (default: the file name without extension, or the host name for --interface).")
    private String source;

    @Mixin
    private KafkaClientOptions kafka;

    @Mixin
    private RedactionOptions redaction;

    @Mixin
    private TopicOptions topic;

    @Option(names = "--retention", paramLabel = "DURATION", converter = DurationConverter.Retention.class,
            description = "How long the capture topic keeps records if this command creates it, e.g. 7d or 12h;"
                    + " -1 keeps them forever (default: the broker's log.retention, 7d unless changed).")
    private Duration retention;

    @Option(names = "--batch-window", paramLabel = "DURATION", defaultValue = "5ms", converter = DurationConverter.class,
            description = "How long a connection's record waits for more of its packets (capture time for --pcap),"
                    + " e.g. 5ms, at most 500ms; 0 for one packet per record (default: ${DEFAULT-VALUE}).")
    private Duration batchWindow;

    @Option(names = "--batch-max-packets", paramLabel = "N", defaultValue = "64",
            description = "Most packets in one record; 1 for one packet per record (default: ${DEFAULT-VALUE}).")
    private int batchMaxPackets;

    @Option(names = "--producer-property", hidden = true, paramLabel = "KEY=VALUE",
            description = "Same as --kafka-property (kept for existing scripts).")
    private List<String> producerProperties = new ArrayList<>();

    @Option(names = "--filter", paramLabel = "BPF",
            description = "Live: BPF expression (tcpdump syntax) ANDed with the generated filter, e.g. 'net 10.1.0.0/16'.")
    private String filter;

    @Option(names = "--requests-only",
            description = "Live: capture only client-to-server packets (default: both directions).")
    private boolean requestsOnly;

    @Option(names = "--snaplen", paramLabel = "BYTES",
            description = "Live: bytes kept of each frame (default: ${DEFAULT-VALUE}).")
    private int snaplen = LiveCaptureRequest.DEFAULT_SNAPLEN;

    @Option(names = "--buffer-size", paramLabel = "SIZE",
            description = "Live: libpcap's kernel capture buffer while traffic comes, mapped into the process and"
                    + " resident in full, e.g. 64MB; an idle forwarder (under 20 packets a second) holds 2 MB instead,"
                    + " grows to this in its first busy second and gives it back after a quiet minute. It holds what"
                    + " arrives while the capture thread is held up, in blocks of 256 KB that the kernel hands over at"
                    + " least every 10 ms, so the default holds about 640 ms of traffic up to 100,000 packets/s: raise"
                    + " it when pcap_dropped grows, lower it (4MB holds 160 ms) only on a host whose CPU is never"
                    + " saturated (default: ${DEFAULT-VALUE}).")
    private String bufferSize = "16MB";

    @Option(names = "--promisc",
            description = "Live: put the interface in promiscuous mode.")
    private boolean promiscuous;

    @Option(names = "--max-pending", paramLabel = "SIZE",
            description = "Live: captured bytes held while Kafka is slow or down before packets are dropped"
                    + " (counted as pending-full), e.g. 256MB; held off the heap in a region reserved at start, so resident"
                    + " memory stays under --max-pending + --buffer-size + heap (-Xmx32m from bin/trafficbus) + 128 MB of JVM"
                    + " (the start-up line prints the figure, /metrics exports it beside the resident set)"
                    + " (default: ${DEFAULT-VALUE}).")
    private String maxPending = "256MB";

    @Option(names = "--cpu-budget", paramLabel = "PERCENT",
            description = "Live: share of one core the forwarder may use, e.g. 5%%; sampled every 250 ms, and while the"
                    + " last second's use is over it new connections (client SYNs) are not forwarded: every packet of such a"
                    + " connection is dropped and counted as cpu-budget, connections already forwarded go on; 'off' for"
                    + " no budget (default: ${DEFAULT-VALUE}).")
    private String cpuBudget = "off";

    @Option(names = "--flush-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "Live: how long a stop waits for pending packets to reach Kafka, e.g. 10s (default: ${DEFAULT-VALUE}).")
    private Duration flushTimeout;

    @Option(names = "--status-interval", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "Live: period of the status log line, e.g. 10s; 0 for none (default: ${DEFAULT-VALUE}).")
    private Duration statusInterval;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Live: serve Prometheus metrics on http://*:PORT/metrics and /health (default: none).")
    private Integer metricsPort;

    @Override
    public Integer call() {
        producerProperties.forEach(kafka::property);
        Properties config = kafka.toProperties();
        FlowBatcher.checkOptions(batchWindow, batchMaxPackets);
        return input.pcap != null ? importFile(config) : captureLive(config);
    }

    private int importFile(Properties config) {
        for (String live : List.of("--filter", "--requests-only", "--snaplen", "--buffer-size", "--promisc",
                "--max-pending", "--cpu-budget", "--flush-timeout", "--status-interval", "--metrics-port")) {
            if (spec.commandLine().getParseResult().hasMatchedOption(live)) {
                throw new UserInputException(live + " applies to a live capture (--interface), not to --pcap");
            }
        }
        Path pcap = input.pcap;
        String id = source != null ? source : PcapForwardRequest.sourceFromFileName(pcap);
        PcapForwardRequest request = new PcapForwardRequest(pcap, new LinkedHashSet<>(ports), id, config, true,
                batchWindow, batchMaxPackets, redaction.rules(), topicSettings());
        AtomicBoolean stop = new AtomicBoolean();
        return whileStoppable(stop::set, STOP_GRACE_SECONDS, () -> reportImport(PcapForwarder.forward(request, stop::get)));
    }

    private int captureLive(Properties config) {
        long bufferBytes = ByteSize.parse("--buffer-size", bufferSize);
        if (bufferBytes > Integer.MAX_VALUE) {
            throw new UserInputException("--buffer-size " + bufferSize + " is too large; at most 2047MB");
        }
        Duration flush = flushTimeout;
        LiveCaptureRequest request = new LiveCaptureRequest(input.interfaceName, new LinkedHashSet<>(ports),
                source != null ? source : hostSource(), config, filter, requestsOnly, snaplen, (int) bufferBytes,
                promiscuous, ByteSize.parse("--max-pending", maxPending), flush,
                statusInterval, metricsPort == null ? -1 : metricsPort, batchWindow, batchMaxPackets,
                redaction.rules(), CpuBudget.parse(cpuBudget), topicSettings());
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new UserInputException("--metrics-port " + metricsPort + " is not a TCP port (0-65535)");
        }
        try (LiveCapture capture = LiveCapture.open(request)) {
            long grace = flush.toSeconds() + 15;
            return whileStoppable(stopping -> capture.stop(), grace, () -> reportLive(capture.run()));
        }
    }

    /** --partitions, --replication-factor and --retention for the capture topic (named when the source is known). */
    private TopicSpec topicSettings() {
        return topic.spec(null, retention == null ? java.util.Map.of()
                : java.util.Map.of(org.apache.kafka.common.config.TopicConfig.RETENTION_MS_CONFIG,
                        Long.toString(retention.toMillis())));
    }

    /**
     * Runs {@code work}; Ctrl-C/SIGTERM calls {@code onStop} and holds the JVM until {@code work} has reported
     * (at most {@code graceSeconds}), so what was captured is published and the counters printed.
     */
    private static int whileStoppable(java.util.function.Consumer<Boolean> onStop, long graceSeconds,
                                      Callable<Integer> work) {
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            onStop.accept(true);
            try {
                reported.await(graceSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-forward-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return work.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is running and now returns.
            }
        }
    }

    private int reportImport(ForwardSummary summary) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println(summary.summaryLine());
        out.flush();
        if (summary.publishErrors() > 0) {
            err.println("trafficbus forward: " + summary.publishErrors()
                    + " packets could not be published to " + summary.topic() + " (see the warning above)");
            return EXIT_PUBLISH_ERRORS;
        }
        if (!summary.fileComplete()) {
            err.println("trafficbus forward: file " + input.pcap + " " + summary.fileProblem()
                    + "; published what was complete");
            return CommandRunner.EXIT_USER_ERROR;
        }
        return 0;
    }

    private int reportLive(LiveSummary summary) {
        PrintWriter out = spec.commandLine().getOut();
        out.println(summary.summaryLine());
        out.flush();
        if (summary.stoppedBecause() != null) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("trafficbus forward: capturing on " + summary.interfaceName() + " stopped: "
                    + summary.stoppedBecause() + "; what was captured is published or counted above");
            err.flush();
            return EXIT_CAPTURE_FAILED;
        }
        if (summary.publishErrors() > 0) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("trafficbus forward: " + summary.publishErrors()
                    + " packets could not be published to " + summary.topic() + " (see the warning above)");
            err.flush();
            return EXIT_PUBLISH_ERRORS;
        }
        return 0;
    }

    /** The default source of a live capture: this host's short name, reduced to what a topic name allows. */
    static String hostSource() {
        String name;
        try {
            name = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            name = "";
        }
        int dot = name.indexOf('.');
        if (dot > 0) {
            name = name.substring(0, dot);
        }
        name = name.replaceAll("[^a-zA-Z0-9_-]+", "-").replaceAll("^-+|-+$", "");
        return name.isEmpty() ? "live" : name;
    }

    /** The version from the jar manifest. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ForwardCommand.class.getPackage().getImplementationVersion();
            return new String[] {"trafficbus forward " + (v != null ? v : "(development build)")};
        }
    }
}
