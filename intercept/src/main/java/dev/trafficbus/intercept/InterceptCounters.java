package dev.trafficbus.intercept;

import dev.trafficbus.metrics.MetricsEndpoint;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Everything intercept counts: packets captured, relayed, dropped by reason, held; replayer connections and
 * refusals. Thread-safe; exported through a {@link MetricsEndpoint} as {@code trafficbus_intercept_*}.
 */
public final class InterceptCounters {
    private final LongAdder captured = new LongAdder();
    private final LongAdder relayed = new LongAdder();
    private final LongAdder held = new LongAdder();
    private final LongAdder framesSent = new LongAdder();
    private final LongAdder clientsAccepted = new LongAdder();
    private final AtomicInteger clientsConnected = new AtomicInteger();
    private final Map<DropReason, LongAdder> dropped = new EnumMap<>(DropReason.class);
    private final Map<RefusalReason, LongAdder> refused = new EnumMap<>(RefusalReason.class);

    /** All counters at zero. */
    public InterceptCounters() {
        for (DropReason r : DropReason.values()) {
            dropped.put(r, new LongAdder());
        }
        for (RefusalReason r : RefusalReason.values()) {
            refused.put(r, new LongAdder());
        }
    }

    /** Registers every counter with {@code metrics} under the intercept naming scheme. */
    public void export(MetricsEndpoint metrics) {
        metrics.functionCounter("packets_captured", captured, LongAdder::doubleValue);
        metrics.functionCounter("packets_relayed", relayed, LongAdder::doubleValue);
        metrics.functionCounter("packets_held", held, LongAdder::doubleValue);
        metrics.functionCounter("frames_sent", framesSent, LongAdder::doubleValue);
        metrics.functionCounter("clients_accepted", clientsAccepted, LongAdder::doubleValue);
        metrics.gauge("clients_connected", clientsConnected, AtomicInteger::doubleValue);
        dropped.forEach((r, c) -> metrics.functionCounter("packets_dropped", c, LongAdder::doubleValue,
                "reason", r.label()));
        refused.forEach((r, c) -> metrics.functionCounter("auth_refused", c, LongAdder::doubleValue,
                "reason", r.label()));
    }

    void countCaptured() {
        captured.increment();
    }

    void countCaptured(int packets) {
        captured.add(packets);
    }

    void countRelayed(int packets) {
        relayed.add(packets);
        framesSent.increment();
    }

    void countHeld() {
        held.increment();
    }

    void countDropped(DropReason reason) {
        dropped.get(reason).increment();
    }

    void countDropped(DropReason reason, int packets) {
        dropped.get(reason).add(packets);
    }

    void countRefused(RefusalReason reason) {
        refused.get(reason).increment();
    }

    void connected() {
        clientsAccepted.increment();
        clientsConnected.incrementAndGet();
    }

    void disconnected() {
        clientsConnected.decrementAndGet();
    }

    /** Packets the capture delivered. */
    public long captured() {
        return captured.sum();
    }

    /** Packets written to a replayer's connection. */
    public long relayed() {
        return relayed.sum();
    }

    /** Packets that waited for their route at least once. */
    public long held() {
        return held.sum();
    }

    /** Packets dropped for {@code reason}. */
    public long dropped(DropReason reason) {
        return dropped.get(reason).sum();
    }

    /** Packets dropped for any reason. */
    public long droppedTotal() {
        long sum = 0;
        for (LongAdder c : dropped.values()) {
            sum += c.sum();
        }
        return sum;
    }

    /** Connections refused for {@code reason}. */
    public long refused(RefusalReason reason) {
        return refused.get(reason).sum();
    }

    /** Replayer connections open now (authenticated or not yet). */
    public int clientsConnected() {
        return clientsConnected.get();
    }

    /** Replayer connections accepted since start. */
    public long clientsAccepted() {
        return clientsAccepted.sum();
    }

    /** One line: the totals and every non-zero drop and refusal reason. */
    public String summaryLine() {
        StringBuilder sb = new StringBuilder();
        sb.append("captured ").append(captured()).append(", relayed ").append(relayed())
                .append(", dropped ").append(droppedTotal());
        appendNonZero(sb, dropped);
        sb.append(", clients ").append(clientsConnected()).append(" connected (")
                .append(clientsAccepted()).append(" accepted)");
        long refusedTotal = refused.values().stream().mapToLong(LongAdder::sum).sum();
        sb.append(", refused ").append(refusedTotal);
        appendNonZero(sb, refused);
        return sb.toString();
    }

    private static <E extends Enum<E>> void appendNonZero(StringBuilder sb, Map<E, LongAdder> counts) {
        StringBuilder detail = new StringBuilder();
        counts.forEach((r, c) -> {
            long n = c.sum();
            if (n > 0) {
                detail.append(detail.length() == 0 ? "" : ", ").append(label(r)).append(' ').append(n);
            }
        });
        if (detail.length() > 0) {
            sb.append(" (").append(detail).append(')');
        }
    }

    private static String label(Enum<?> reason) {
        return reason instanceof DropReason d ? d.label() : ((RefusalReason) reason).label();
    }
}
