package dev.trafficbus.capture;

import dev.trafficbus.capture.live.BulkPacketReader;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.TopicState;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.metrics.MetricsEndpoint;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A live capture of one interface into the source's capture topic: {@link #open} checks everything and
 * connects, {@link #run} captures until {@link #stop} (from any thread, e.g. a signal hook), then publishes
 * what is pending within the flush timeout and returns the counters.
 */
public final class LiveCapture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LiveCapture.class);
    private static final long KERNEL_STATS_MILLIS = 1000;
    /** The producer's buffer.memory unless the user sets it: part of the heap, see {@link ResidentMemory}. */
    static final long PRODUCER_BUFFER_BYTES = 8L << 20;

    private final LiveCaptureRequest request;
    private final String topic;
    private final CaptureRing captureRing;
    private final CapturePublisher publisher;
    private final PendingRing ring;
    private final LiveCaptureLoop loop;
    private final FlowRedaction redaction;
    private final CpuBudget cpuBudget;
    private final SessionShedder shedder;
    private final KernelStats kernel;
    private final LiveSender sender;
    private final LiveCaptureMetrics metrics;
    private final MetricsEndpoint endpoint;
    private final AtomicLong flushTimeoutDrops = new AtomicLong();
    private final ScheduledExecutorService timer;
    private volatile boolean stopRequested;
    private volatile boolean capturing;
    private volatile String stoppedBecause;
    private boolean ran;

    private LiveCapture(LiveCaptureRequest request, String topic, CaptureRing captureRing, CapturePublisher publisher,
                        MetricsEndpoint endpoint, RecordLimit limit) {
        this.request = request;
        this.topic = topic;
        this.captureRing = captureRing;
        this.publisher = publisher;
        this.endpoint = endpoint;
        this.ring = new PendingRing(request.maxPendingBytes());
        this.redaction = new FlowRedaction(request.redaction());
        this.cpuBudget = new CpuBudget(request.cpuBudget());
        this.shedder = new SessionShedder(cpuBudget);
        this.loop = new LiveCaptureLoop(new PacketClassifier(captureRing.linkLayer(),
                request.servicePorts(), redaction), publisher, ring, shedder, limit);
        this.kernel = captureRing.kernel();
        PublishLatency latency = new PublishLatency(endpoint == null ? null
                : endpoint.timer("publish_latency", "source", request.source()));
        this.sender = new LiveSender(ring, publisher, latency, request.batchWindow(), request.batchMaxPackets(),
                limit.maxValueBytes(), "trafficbus-send-" + topic);
        this.metrics = new LiveCaptureMetrics(request.source(), request.interfaceName(), loop, publisher, ring,
                captureRing, latency, redaction, cpuBudget, shedder, ResidentMemory.bound(request.maxPendingBytes(), request.bufferBytes()));
        if (endpoint != null) {
            metrics.register(endpoint, flushTimeoutDrops::get);
            endpoint.health(() -> capturing, "capturing on " + request.interfaceName());
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "trafficbus-forward-status");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Checks the request, opens the interface with the filter, starts the metrics endpoint and connects to
     * Kafka (creating the topic). From here on the kernel keeps packets for {@link #run}. Throws
     * {@link UserInputException} for anything the user must fix.
     */
    public static LiveCapture open(LiveCaptureRequest request) {
        return open(request, RingSizing.forBuffer(request.bufferBytes(), System.nanoTime()));
    }

    /** {@link #open(LiveCaptureRequest)} with the capture ring resized by {@code sizing}. */
    static LiveCapture open(LiveCaptureRequest request, RingSizing sizing) {
        Set<Integer> ports = PcapForwarder.checkPorts(request.servicePorts());
        String topic;
        try {
            topic = Topics.capture(request.source());
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        check(request.snaplen() >= 64 && request.snaplen() <= 262144, "--snaplen " + request.snaplen()
                + " is out of range; use 64-262144 (65535 keeps whole packets)");
        check(request.bufferBytes() >= 65536, "--buffer-size must be at least 64KB");
        check(request.maxPendingBytes() >= 65536, "--max-pending must be at least 64KB");
        check(request.maxPendingBytes() <= Integer.MAX_VALUE, "--max-pending " + ByteSize.format(request.maxPendingBytes())
                + " is too large; at most 2047MB");
        check(!request.flushTimeout().isNegative(), "--flush-timeout must not be negative");
        FlowBatcher.checkOptions(request.batchWindow(), request.batchMaxPackets());
        Properties config = producerConfig(request);
        Duration connectTimeout = PcapForwarder.connectTimeout(request.clientConfig() == null ? new Properties()
                : request.clientConfig());
        String servers = config.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "").trim();
        check(!servers.isEmpty(), "no Kafka bootstrap servers given");
        String filter = CaptureFilter.build(ports, request.requestsOnly(), servers, request.userFilter());
        CaptureRing captureRing = CaptureRing.open(request, filter, sizing);
        MetricsEndpoint endpoint = null;
        CapturePublisher publisher = null;
        try {
            if (request.metricsPort() >= 0) {
                endpoint = new MetricsEndpoint("forward").serve(request.metricsPort());
            }
            // Settings, broker, then the producer (see PcapForwarder): a producer refused its id logs a stack trace.
            CapturePublisher.checkSettings(config, request.source());
            TopicState described = CaptureTopic.ensure(request.topicSpec(topic), config, connectTimeout);
            publisher = new CapturePublisher(topic, request.source(), config);
            publisher.loadMetadata();
            // Announced once the metrics are registered: a reader of this line finds every meter.
            LiveCapture capture = new LiveCapture(request, topic, captureRing, publisher, endpoint,
                    RecordLimit.of(described, CapturePublisher.producerSettings(config, request.source())));
            LOG.info("capturing on {} with filter '{}' into {}; masking {} before publishing; {}{}",
                    request.interfaceName(), filter, topic, request.redaction().describe(),
                    ResidentMemory.bound(request.maxPendingBytes(), request.bufferBytes()).describe(),
                    request.cpuBudget() > 0 ? String.format(java.util.Locale.ROOT, "; CPU budget %.1f%% of one core",
                            request.cpuBudget() * 100) : "");
            return capture;
        } catch (RuntimeException e) {
            if (publisher != null) {
                publisher.close(Duration.ZERO);
            }
            if (endpoint != null) {
                endpoint.close();
            }
            captureRing.close();
            throw e;
        }
    }

    /**
     * The producer settings of a live capture: the user's, over defaults that keep a slow or absent broker from
     * failing records while the pending bound has room (the bound, not the producer's buffer, decides drops):
     * the sending thread may wait for buffer space as long as it takes, since the capture never waits for it.
     * Records still fail after delivery.timeout.ms (2 min by default) without a broker; they are counted.
     */
    static Properties producerConfig(LiveCaptureRequest request) {
        Properties config = new Properties();
        // The backlog waits in the pending ring, off the heap; the producer's own (heap) buffer only needs to hold
        // what is on its way to the broker, so the heap stays small whatever --max-pending is.
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(PRODUCER_BUFFER_BYTES));
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(Duration.ofHours(1).toMillis()));
        // Each produce batch costs the producer's network thread about the same whatever it holds, so a longer
        // linger saves CPU; but every record waits up to that long, and a live copy is read within 50 ms of capture
        // (bench/p6-latency.sh). At 100,000 packets/s 10 ms instead of 50 ms moved about 0.25 us per packet from the
        // sending thread to the network thread, about even in all (bench/p2-live.sh).
        config.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        if (request.clientConfig() != null) {
            config.putAll(request.clientConfig());
        }
        return config;
    }

    /**
     * Captures until {@link #stop}, then stops capturing, publishes what is pending within the flush timeout
     * and returns the counters. Runs once.
     */
    public LiveSummary run() {
        if (ran) {
            throw new IllegalStateException("a live capture runs once");
        }
        ran = true;
        long start = System.nanoTime();
        sender.start();
        timer.scheduleAtFixedRate(kernel::sample, KERNEL_STATS_MILLIS, KERNEL_STATS_MILLIS, TimeUnit.MILLISECONDS);
        // Sampled also without a budget: the usage is on /metrics and in the status line.
        timer.scheduleAtFixedRate(cpuBudget::sample, 0, CpuBudget.SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
        long status = request.statusInterval() == null ? 0 : request.statusInterval().toMillis();
        if (status > 0) {
            timer.scheduleAtFixedRate(() -> LOG.info(metrics.statusLine()), status, status, TimeUnit.MILLISECONDS);
        }
        capture();
        kernel.sample();
        try {
            flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            timer.shutdownNow();
        }
        // The log's last status line shows the state at the stop, also when the run was shorter than one interval.
        LOG.info(metrics.statusLine());
        LiveSummary summary = summary((System.nanoTime() - start) / 1e9);
        if (!summary.accounted()) {
            LOG.warn("counters do not add up: {}", summary);
        }
        return summary;
    }

    private void capture() {
        capturing = true;
        try {
            while (!stopRequested) {
                // BROKEN: a stop; a timeout returns 0; both loop back to check the flag.
                if (captureRing.read(loop) == BulkPacketReader.FAILED) {
                    stoppedBecause = captureRing.error();
                    return;
                }
            }
        } catch (RuntimeException e) {
            stoppedBecause = "packet handling failed: " + e;
            LOG.error("capture on {} stopped by an unexpected error", request.interfaceName(), e);
        } finally {
            capturing = false;
        }
    }

    /** Hands over what is pending, waits for Kafka until the flush timeout, then fails or discards the rest. */
    private void flush() throws InterruptedException {
        long deadline = System.nanoTime() + request.flushTimeout().toNanos();
        boolean drained = sender.finish(deadline);
        if (!drained) {
            sender.abort();
        }
        publisher.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        if (!drained) {
            long discarded = sender.awaitDiscarded();
            flushTimeoutDrops.addAndGet(discarded);
            LOG.warn("the flush time ({} s) ran out: {} captured packets were not handed to Kafka",
                    request.flushTimeout().toSeconds(), discarded);
        }
    }

    /**
     * Asks {@link #run} to stop capturing; safe from any thread and more than once. Packets still in the
     * kernel buffer after this are not read.
     */
    public void stop() {
        stopRequested = true;
        captureRing.breakLoop();
    }

    /** The counters now (final once {@link #run} has returned). */
    public LiveSummary summary(double seconds) {
        Map<String, Long> dropped = new LinkedHashMap<>();
        dropped.put(LiveSummary.PENDING_FULL, loop.droppedPendingFull());
        dropped.put(LiveSummary.FLUSH_TIMEOUT, flushTimeoutDrops.get());
        dropped.put(LiveSummary.UNREADABLE, loop.droppedUnreadable());
        dropped.put(LiveSummary.CPU_BUDGET, loop.droppedCpuBudget());
        Map<String, Long> skipped = new LinkedHashMap<>();
        for (SkipReason reason : SkipReason.values()) {
            skipped.put(reason.label(), loop.skipped(reason));
        }
        return new LiveSummary(topic, request.interfaceName(), loop.captured(), publisher.published(),
                publisher.recordsPublished(), publisher.failed(), dropped, skipped, publisher.bytesPublished(),
                kernel.received(), kernel.dropped(), kernel.interfaceDropped(), seconds, stoppedBecause,
                RedactionCounts.of(redaction));
    }

    /** Key plus value bytes captured and not yet acknowledged or failed by Kafka. */
    public long pendingBytes() {
        return ring.pendingBytes();
    }

    /** The sequence number of this run's first packet (see {@link SequenceNumbers}). */
    public long firstSequence() {
        return publisher.firstSequence();
    }

    /** The metrics endpoint's port, or -1 without one. */
    public int metricsPort() {
        return endpoint == null ? -1 : endpoint.port();
    }

    /** The periodic status line as it would be logged now. */
    public String statusLine() {
        return metrics.statusLine();
    }

    /** Releases the interface, the producer and the metrics endpoint (after {@link #run}, or instead of it). */
    @Override
    public void close() {
        timer.shutdownNow();
        if (!ran) {
            publisher.close(Duration.ZERO);
        }
        captureRing.close();
        if (!sender.running()) {
            ring.close(); // a sender stuck past the flush time keeps it: the process is ending anyway
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new UserInputException(message);
        }
    }
}
