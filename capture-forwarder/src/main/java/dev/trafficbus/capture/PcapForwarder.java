package dev.trafficbus.capture;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.capture.file.CaptureFile;
import dev.trafficbus.capture.file.CaptureFileException;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.TopicState;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.packet.Encapsulation;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** Imports a pcap file into the capture topic of a source: the whole file, then flush, then the counters. */
public final class PcapForwarder {
    private static final Logger LOG = LoggerFactory.getLogger(PcapForwarder.class);

    private PcapForwarder() {
    }

    /**
     * Reads the whole file (no libpcap: see {@link CaptureFile}), publishes, flushes, returns the counters. Throws
     * {@link UserInputException} for a missing, empty or non-capture file, a bad port or source, no readable link
     * type, or a broker that does not answer within max.block.ms (30 s by default). A file cut short or damaged
     * part-way is not an error here: what came before is published and {@link ForwardSummary#fileProblem()} says it.
     */
    public static ForwardSummary forward(PcapForwardRequest request) {
        return forward(request, () -> false);
    }

    /**
     * As {@link #forward(PcapForwardRequest)}, but stops reading at the next packet once {@code stopRequested}
     * says so; what was read is still published and flushed, and the counters cover exactly that.
     */
    public static ForwardSummary forward(PcapForwardRequest request, BooleanSupplier stopRequested) {
        Path pcap = request.pcap();
        if (pcap == null) {
            throw new UserInputException("no pcap file given");
        }
        Set<Integer> ports = checkPorts(request.servicePorts());
        FlowBatcher.checkOptions(request.batchWindow(), request.batchMaxPackets());
        String source = request.source();
        String topic;
        try {
            topic = Topics.capture(source);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        Properties config = request.producerConfig() == null ? new Properties() : request.producerConfig();
        String servers = config.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "").trim();
        if (servers.isEmpty()) {
            throw new UserInputException("no Kafka bootstrap servers given");
        }
        try (CaptureFile file = CaptureFile.open(pcap)) {
            Duration connectTimeout = connectTimeout(config);
            PacketClassifier classifier = new PacketClassifier(ports, new FlowRedaction(request.redaction()));
            ProgressDisplay progress = request.showProgress() ? ProgressDisplay.onTerminal()
                    : new ProgressDisplay(System.err, false);
            // The settings first (no broker needed), then the broker must answer, then the producer: an idempotent
            // producer asks for its id at once, and one refused by the ACLs logs a stack trace when it is closed.
            CapturePublisher.checkSettings(config, source);
            TopicState described = CaptureTopic.ensure(request.topicSpec(topic), config, connectTimeout);
            TimestampWindow timestamps = TimestampWindow.of(described);
            RecordLimit limit = RecordLimit.of(described, CapturePublisher.producerSettings(config, source));
            try (CapturePublisher publisher = new CapturePublisher(topic, source, config)) {
                return run(file, request, topic, classifier, publisher, progress, stopRequested, timestamps, limit);
            }
        }
    }

    /**
     * The checks {@link #forward} makes before it needs Kafka: ports, a file that reads as a capture with a link type
     * it can strip. Lets a caller fail fast before starting anything expensive. Standard input ({@code -}) is
     * checked when it is read, not here: what is read of it cannot be read again.
     */
    public static void checkInput(Path pcap, Set<Integer> servicePorts) {
        checkPorts(servicePorts);
        if (pcap == null) {
            throw new UserInputException("no pcap file given");
        }
        if (!CaptureFile.STDIN.equals(pcap.toString())) {
            CaptureFile.open(pcap).close();
        }
    }

    private static ForwardSummary run(CaptureFile file, PcapForwardRequest request, String topic,
                                      PacketClassifier classifier, CapturePublisher publisher, ProgressDisplay progress,
                                      BooleanSupplier stopRequested, TimestampWindow timestamps,
                                      RecordLimit limit) {
        Path pcap = request.pcap();
        long start = System.nanoTime();
        PcapImportLoop loop;
        try (SendPipeline pipeline = new SendPipeline(publisher, "trafficbus-send-" + topic)) {
            loop = new PcapImportLoop(file, classifier, publisher, pipeline, request.batchWindow(),
                    request.batchMaxPackets(), progress, fileSize(pcap), start, stopRequested,
                    timestamps, limit);
            loop.run();
            loop.flushBatches();
            pipeline.finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("pcap import interrupted", e);
        }
        publisher.flush();
        progress.finish();
        if (loop.stoppedBecause() != null) {
            LOG.error("stopped reading {} after {} packets: Kafka did not take records ({})",
                    pcap, loop.packetsRead(), loop.stoppedBecause());
        }
        if (loop.stoppedOnRequest()) {
            LOG.warn("stopped reading {} on request after {} packets; they are published or counted below",
                    pcap, loop.packetsRead());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> skipped = new LinkedHashMap<>();
        for (SkipReason reason : SkipReason.values()) {
            skipped.put(reason.label(), loop.skipped(reason));
        }
        Map<String, Long> decapsulated = new LinkedHashMap<>();
        for (Encapsulation kind : Encapsulation.values()) {
            if (loop.decapsulated(kind) > 0) {
                decapsulated.put(kind.label(), loop.decapsulated(kind));
            }
        }
        CaptureFileException problem = loop.fileProblem();
        boolean truncated = problem != null && problem.problem() == CaptureFileException.Problem.TRUNCATED;
        String damage = problem != null && !truncated ? problem.detail() : null;
        return new ForwardSummary(topic, loop.packetsRead(), publisher.published(), publisher.recordsPublished(),
                publisher.failed(), skipped, publisher.bytesPublished(), seconds, truncated, damage,
                classifier.redaction() == null ? RedactionCounts.NONE : RedactionCounts.of(classifier.redaction()),
                decapsulated);
    }

    static Set<Integer> checkPorts(Set<Integer> ports) {
        if (ports == null || ports.isEmpty()) {
            throw new UserInputException("no service port given: name the server's TCP port(s)");
        }
        for (Integer port : ports) {
            if (port == null || port < 1 || port > 65535) {
                throw new UserInputException("port " + port + " is not a TCP port (1-65535)");
            }
        }
        return ports;
    }

    /** How long to wait for the broker: the user's max.block.ms when given, else 30 s. */
    static Duration connectTimeout(Properties config) {
        String value = config.getProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG);
        if (value != null) {
            try {
                return Duration.ofMillis(Math.max(1, Long.parseLong(value.trim())));
            } catch (NumberFormatException e) {
                throw new UserInputException("max.block.ms '" + value + "' is not a number of milliseconds");
            }
        }
        return Duration.ofMillis(CapturePublisher.DEFAULT_MAX_BLOCK_MS);
    }

    private static long fileSize(Path pcap) {
        if (CaptureFile.STDIN.equals(pcap.toString())) {
            return -1;
        }
        try {
            return Files.size(pcap);
        } catch (IOException e) {
            return -1;
        }
    }
}
