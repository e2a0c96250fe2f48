package dev.trafficbus.capture;

import dev.trafficbus.bus.Topics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The counters of one live capture run. Every captured packet is in exactly one of: published, publish
 * errors, dropped (by reason), skipped (by reason) — {@link #accounted()} checks it.
 *
 * @param topic            the capture topic written to
 * @param interfaceName    the interface captured on
 * @param captured         frames libpcap handed over (after the BPF filter)
 * @param published        packets in the records the broker acknowledged
 * @param recordsPublished records the broker acknowledged (each holds one or more packets of one flow)
 * @param publishErrors    packets in records the producer failed (e.g. delivery timeout, flush time over)
 * @param droppedByReason  packets not handed to Kafka: {@code pending-full}, {@code flush-timeout},
 *                         {@code unreadable}, {@code cpu-budget}
 * @param skippedByReason  frames that were not TCP packets of a service port, by {@link SkipReason#label()}
 * @param bytesPublished   key plus value bytes acknowledged
 * @param kernelReceived   libpcap ps_recv: packets that passed the kernel filter
 * @param kernelDropped    libpcap ps_drop: dropped for lack of capture buffer
 * @param interfaceDropped libpcap ps_ifdrop: dropped by the interface or driver
 * @param seconds          wall time of the capture, stop and flush included
 * @param stoppedBecause   why capturing ended other than on request (libpcap's error, e.g. the interface went
 *                         away), or null
 * @param redaction        fields masked per rule before publishing, and what could not be checked
 */
public record LiveSummary(String topic, String interfaceName, long captured, long published, long recordsPublished,
                          long publishErrors,
                          Map<String, Long> droppedByReason, Map<String, Long> skippedByReason, long bytesPublished,
                          long kernelReceived, long kernelDropped, long interfaceDropped, double seconds,
                          String stoppedBecause, RedactionCounts redaction) {
    /** Drop reason: the pending bound (--max-pending) was reached. */
    public static final String PENDING_FULL = "pending-full";
    /** Drop reason: still queued when the flush time after a stop ran out. */
    public static final String FLUSH_TIMEOUT = "flush-timeout";
    /** Drop reason: the packet's session was shed because the forwarder was over --cpu-budget. */
    public static final String CPU_BUDGET = "cpu-budget";
    /** Packets libpcap said it delivered that could not be read out of the bulk-read memory (expected never). */
    public static final String UNREADABLE = "unreadable";

    public LiveSummary {
        droppedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(droppedByReason));
        skippedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(skippedByReason));
    }

    /** Packets dropped for any reason. */
    public long dropped() {
        return droppedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Frames skipped for any reason. */
    public long skipped() {
        return skippedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** True when every captured packet is published, failed, dropped or skipped. */
    public boolean accounted() {
        return captured == published + publishErrors + dropped() + skipped();
    }

    /** One human line with every counter. */
    public String summaryLine() {
        String source = topic.startsWith(Topics.CAPTURE_PREFIX) ? topic.substring(Topics.CAPTURE_PREFIX.length()) : topic;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "forward %s: %d packets captured on %s in %.1f s, %d published in %d records to %s (%s)",
                source, captured, interfaceName, seconds, published, recordsPublished, topic,
                ByteSize.format(bytesPublished)));
        appendNonZero(sb, "; dropped: ", droppedByReason);
        appendNonZero(sb, "; skipped: ", skippedByReason);
        redaction.appendTo(sb);
        if (publishErrors > 0) {
            sb.append("; ").append(publishErrors).append(" publish errors");
        }
        sb.append(String.format(Locale.ROOT, "; kernel: %d received, %d dropped, %d dropped by the interface",
                kernelReceived, kernelDropped, interfaceDropped));
        return sb.toString();
    }

    private static void appendNonZero(StringBuilder sb, String label, Map<String, Long> counts) {
        String separator = label;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() > 0) {
                sb.append(separator).append(e.getKey()).append(' ').append(e.getValue());
                separator = ", ";
            }
        }
    }
}
