package dev.trafficbus.capture;

import dev.trafficbus.packet.LinkLayer;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.UserInputException;
import com.sun.jna.Callback;
import com.sun.jna.Native;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
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
     * Reads the whole file, publishes, flushes, returns the counters. Throws {@link UserInputException}
     * for a missing or non-pcap file, a bad port or source, an unsupported link type, or a broker that
     * does not answer within max.block.ms (30 s by default). A file cut short is not an error here:
     * what was complete is published and {@link ForwardSummary#fileTruncated()} is set.
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
        checkReadable(pcap);
        try (PcapHandle handle = open(pcap)) {
            LinkLayer linkLayer = linkLayerOf(handle, pcap);
            Duration connectTimeout = connectTimeout(config);
            PacketClassifier classifier = new PacketClassifier(linkLayer, ports);
            ProgressDisplay progress = request.showProgress() ? ProgressDisplay.onTerminal()
                    : new ProgressDisplay(System.err, false);
            // The producer first: it checks the settings without a broker; then the broker must answer.
            try (CapturePublisher publisher = new CapturePublisher(topic, source, config)) {
                CaptureTopic.ensure(topic, config, connectTimeout);
                return run(handle, request, topic, classifier, publisher, progress, stopRequested);
            }
        }
    }

    /**
     * The checks {@link #forward} makes before it needs Kafka: ports, a readable file libpcap opens, a link type
     * it can strip. Lets a caller fail fast before starting anything expensive.
     */
    public static void checkInput(Path pcap, Set<Integer> servicePorts) {
        checkPorts(servicePorts);
        checkReadable(pcap);
        try (PcapHandle handle = open(pcap)) {
            linkLayerOf(handle, pcap);
        }
    }

    private static ForwardSummary run(PcapHandle handle, PcapForwardRequest request, String topic,
                                      PacketClassifier classifier, CapturePublisher publisher, ProgressDisplay progress,
                                      BooleanSupplier stopRequested) {
        Path pcap = request.pcap();
        long start = System.nanoTime();
        boolean truncated;
        PcapImportLoop loop;
        try (SendPipeline pipeline = new SendPipeline(publisher, "trafficbus-send-" + topic)) {
            loop = new PcapImportLoop(handle, classifier, publisher, pipeline, request.batchWindow(),
                    request.batchMaxPackets(), progress, fileSize(pcap), start, stopRequested);
            truncated = readAll(handle, pcap, loop);
            if (loop.failure() != null) {
                throw loop.failure();
            }
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
        return new ForwardSummary(topic, loop.packetsRead(), publisher.published(), publisher.recordsPublished(),
                publisher.failed(),
                skipped, publisher.bytesPublished(), seconds, truncated);
    }

    /** Runs libpcap's loop to the end of the file; true when it stopped early at a record it could not read. */
    private static boolean readAll(PcapHandle handle, Path pcap, PcapImportLoop loop) {
        // An exception thrown inside libpcap's callback never reaches our listener; JNA hands it here instead.
        Callback.UncaughtExceptionHandler jnaDefault = Native.getCallbackExceptionHandler();
        Native.setCallbackExceptionHandler((callback, e) -> loop.countUndeliverableRecord());
        try {
            handle.loop(-1, loop);
            return false;
        } catch (PcapNativeException e) {
            // libpcap stops at a record it cannot read; everything before it was delivered and is kept.
            if (e.getMessage() == null || !e.getMessage().contains("truncated")) {
                LOG.warn("libpcap stopped reading {} after {} packets: {}", pcap, loop.packetsRead(), e.getMessage());
            }
            return true;
        } catch (InterruptedException e) {
            // breakLoop: the listener stopped the read and says why.
            if (loop.failure() == null && loop.stoppedBecause() == null && !loop.stoppedOnRequest()) {
                Thread.currentThread().interrupt();
            }
            return false;
        } catch (NotOpenException e) {
            throw new IllegalStateException("pcap handle closed while reading", e);
        } finally {
            Native.setCallbackExceptionHandler(jnaDefault);
        }
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

    private static void checkReadable(Path pcap) {
        if (!Files.exists(pcap)) {
            throw new UserInputException(pcap + ": no such file");
        }
        if (Files.isDirectory(pcap)) {
            throw new UserInputException(pcap + " is a directory, not a pcap file");
        }
        if (!Files.isReadable(pcap)) {
            throw new UserInputException(pcap + ": permission denied");
        }
    }

    private static PcapHandle open(Path pcap) {
        try {
            return Pcaps.openOffline(pcap.toString(), PcapHandle.TimestampPrecision.MICRO);
        } catch (PcapNativeException e) {
            throw new UserInputException(pcap + " is not a pcap file (" + libpcapMessage(e) + ")", e);
        }
    }

    private static LinkLayer linkLayerOf(PcapHandle handle, Path pcap) {
        int dlt = handle.getDlt().value();
        LinkLayer layer = LinkLayer.forDlt(dlt);
        if (layer == null) {
            String name;
            try {
                name = Pcaps.dataLinkValToName(dlt);
            } catch (PcapNativeException | RuntimeException e) {
                name = "unknown";
            }
            throw new UserInputException(pcap + " has link type " + name + " (DLT " + dlt + "), which forward cannot"
                    + " read; it reads Ethernet (with VLAN tags), Linux cooked v1/v2, BSD loopback and raw IP captures");
        }
        return layer;
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
        try {
            return Files.size(pcap);
        } catch (IOException e) {
            return -1;
        }
    }

    /** pcap4j prefixes libpcap's text with its own words; the user wants libpcap's. */
    private static String libpcapMessage(PcapNativeException e) {
        String m = e.getMessage() == null ? "libpcap refused it" : e.getMessage();
        return m.startsWith("Error occurred: ") ? m.substring("Error occurred: ".length()) : m;
    }
}
