package dev.trafficbus.capture;

import dev.trafficbus.metrics.MetricsEndpoint;

import java.util.Locale;

/**
 * The counters of a live capture as Prometheus meters ({@code trafficbus_forward_*{source=...}}) and as the
 * periodic status log line. Reads the counters where they are kept; counts nothing itself.
 */
final class LiveCaptureMetrics {
    private final String source;
    private final String interfaceName;
    private final LiveCaptureLoop loop;
    private final CapturePublisher publisher;
    private final PendingRing ring;
    private final KernelStats kernel;
    private final CaptureRing captureRing;
    private final PublishLatency latency;
    private final FlowRedaction redaction;
    private final CpuBudget cpuBudget;
    private final SessionShedder shedder;
    private final ResidentMemory.Bound memoryBound;
    private long lastCaptured;
    private long lastNanos = System.nanoTime();
    private long lastLatencyCount;
    private long lastLatencySum;

    LiveCaptureMetrics(String source, String interfaceName, LiveCaptureLoop loop, CapturePublisher publisher,
                       PendingRing ring, CaptureRing captureRing, PublishLatency latency, FlowRedaction redaction,
                       CpuBudget cpuBudget, SessionShedder shedder, ResidentMemory.Bound memoryBound) {
        this.source = source;
        this.interfaceName = interfaceName;
        this.loop = loop;
        this.publisher = publisher;
        this.ring = ring;
        this.kernel = captureRing.kernel();
        this.captureRing = captureRing;
        this.latency = latency;
        this.redaction = redaction;
        this.cpuBudget = cpuBudget;
        this.shedder = shedder;
        this.memoryBound = memoryBound;
    }

    /** Registers every counter on {@code endpoint}; {@code flushTimeoutDrops} reads the drops at stop. */
    void register(MetricsEndpoint endpoint, java.util.function.LongSupplier flushTimeoutDrops) {
        String[] src = {"source", source};
        endpoint.functionCounter("packets_captured", loop, LiveCaptureLoop::captured, src);
        endpoint.functionCounter("packets_published", publisher, CapturePublisher::published, src);
        endpoint.functionCounter("records_published", publisher, CapturePublisher::recordsPublished, src);
        endpoint.functionCounter("bytes_published", publisher, CapturePublisher::bytesPublished, src);
        endpoint.functionCounter("publish_errors", publisher, CapturePublisher::failed, src);
        endpoint.functionCounter("packets_dropped", loop, LiveCaptureLoop::droppedPendingFull,
                "source", source, "reason", LiveSummary.PENDING_FULL);
        endpoint.functionCounter("packets_dropped", flushTimeoutDrops, s -> s.getAsLong(),
                "source", source, "reason", LiveSummary.FLUSH_TIMEOUT);
        endpoint.functionCounter("packets_dropped", loop, LiveCaptureLoop::droppedUnreadable,
                "source", source, "reason", LiveSummary.UNREADABLE);
        endpoint.functionCounter("packets_dropped", loop, LiveCaptureLoop::droppedCpuBudget,
                "source", source, "reason", LiveSummary.CPU_BUDGET);
        // The CPU budget (0 when off), the usage it is compared with, and the sessions it shed.
        endpoint.gauge("cpu_budget_ratio", cpuBudget, CpuBudget::budget, src);
        endpoint.gauge("cpu_usage_ratio", cpuBudget, CpuBudget::usage, src);
        endpoint.functionCounter("sessions_shed", shedder, SessionShedder::sessionsShed, src);
        endpoint.functionCounter("sessions_not_shed_set_full", shedder, SessionShedder::notShedSetFull, src);
        // Resident memory: the bound computed at start and VmRSS now.
        endpoint.gauge("memory_bound_bytes", memoryBound, ResidentMemory.Bound::total, src);
        endpoint.gauge("resident_memory_bytes", this, m -> ResidentMemory.residentBytes(), src);
        endpoint.gauge("resident_memory_peak_bytes", this, m -> ResidentMemory.peakResidentBytes(), src);
        for (SkipReason reason : SkipReason.values()) {
            endpoint.functionCounter("packets_skipped", loop, l -> l.skipped(reason),
                    "source", source, "reason", reason.label());
        }
        endpoint.functionCounter("pcap_received", kernel, KernelStats::received, src);
        endpoint.functionCounter("pcap_dropped", kernel, KernelStats::dropped, src);
        endpoint.functionCounter("pcap_interface_dropped", kernel, KernelStats::interfaceDropped, src);
        // libpcap's ring now (2 MB idle, --buffer-size busy) and how often it changed.
        endpoint.gauge("capture_ring_bytes", captureRing, CaptureRing::ringBytes, src);
        endpoint.functionCounter("capture_ring_resizes", captureRing, CaptureRing::resizes, src);
        // One counter per rule, also at 0: the metrics say what is masked.
        var rules = redaction.rules();
        for (int i = 0; i < rules.ruleCount(); i++) {
            int rule = i;
            endpoint.functionCounter("fields_redacted", redaction, r -> r.fields(rule),
                    "source", source, "rule", rules.label(i));
        }
        endpoint.functionCounter("redaction_unchecked", redaction, FlowRedaction::unchecked, src);
        endpoint.gauge("pending_bytes", ring, PendingRing::pendingBytes, src);
        endpoint.gauge("pending_max_bytes", ring, PendingRing::maxPendingBytes, src);
    }

    /** The status line: totals, the capture rate and publish latency since the previous line. */
    String statusLine() {
        long now = System.nanoTime();
        long captured = loop.captured();
        double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
        double rate = (captured - lastCaptured) / seconds;
        long[] lat = latency.sampleAndResetMax();
        long count = lat[0] - lastLatencyCount;
        double avgMillis = count > 0 ? (lat[1] - lastLatencySum) / 1000.0 / count : 0;
        lastCaptured = captured;
        lastNanos = now;
        lastLatencyCount = lat[0];
        lastLatencySum = lat[1];
        return String.format(Locale.ROOT, "forward %s on %s: captured %d (%.0f/s), published %d in %d records, pending %s (%d queued),"
                        + " dropped pending-full %d, skipped %d, publish errors %d, kernel received %d dropped %d"
                        + " if-dropped %d, capture ring %s, publish latency avg %.1f ms max %.1f ms, redacted %d fields (%d unchecked),"
                        + " cpu %.1f%%, cpu-budget dropped %d in %d sessions, resident %s of at most %s",
                source, interfaceName, captured, rate, publisher.published(), publisher.recordsPublished(), ByteSize.format(ring.pendingBytes()),
                ring.queued(), loop.droppedPendingFull(), loop.skippedTotal(), publisher.failed(), kernel.received(),
                kernel.dropped(), kernel.interfaceDropped(), ByteSize.format(captureRing.ringBytes()), avgMillis, lat[2] / 1000.0, redaction.fieldsRedacted(),
                redaction.unchecked(), cpuBudget.usage() * 100, loop.droppedCpuBudget(), shedder.sessionsShed(),
                ByteSize.format(Math.max(0, ResidentMemory.residentBytes())), ByteSize.format(memoryBound.total()));
    }
}
