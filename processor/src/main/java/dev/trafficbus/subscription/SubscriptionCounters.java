package dev.trafficbus.subscription;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * What one subscription did since this instance started: packets seen, packets and records produced (a record
 * holds one or more packets of one flow; amplified copies count each), sessions seen, kept and dropped by
 * reason, fields masked. Sessions add up: in = kept + dropped + still held.
 */
public final class SubscriptionCounters {
    final LongAdder packetsIn = new LongAdder();
    final LongAdder packetsOut = new LongAdder();
    final LongAdder recordsOut = new LongAdder();
    final LongAdder sessionsIn = new LongAdder();
    final LongAdder sessionsKept = new LongAdder();
    final LongAdder fieldsRedacted = new LongAdder();
    private final Map<String, LongAdder> dropped = new ConcurrentHashMap<>();
    private final BiConsumer<String, LongAdder> onNewReason;

    SubscriptionCounters(BiConsumer<String, LongAdder> onNewReason) {
        this.onNewReason = onNewReason;
    }

    void dropped(String reason) {
        LongAdder a = dropped.get(reason);
        if (a == null) {
            a = dropped.computeIfAbsent(reason, r -> {
                LongAdder n = new LongAdder();
                onNewReason.accept(r, n);
                return n;
            });
        }
        a.increment();
    }

    public long packetsIn() {
        return packetsIn.sum();
    }

    public long packetsOut() {
        return packetsOut.sum();
    }

    public long recordsOut() {
        return recordsOut.sum();
    }

    public long sessionsIn() {
        return sessionsIn.sum();
    }

    public long sessionsKept() {
        return sessionsKept.sum();
    }

    public long fieldsRedacted() {
        return fieldsRedacted.sum();
    }

    /** Sessions dropped for {@code reason} (0 when none). */
    public long sessionsDropped(String reason) {
        LongAdder a = dropped.get(reason);
        return a == null ? 0 : a.sum();
    }

    /** Dropped sessions by reason, sorted by reason. */
    public Map<String, Long> droppedByReason() {
        Map<String, Long> out = new TreeMap<>();
        dropped.forEach((r, a) -> out.put(r, a.sum()));
        return out;
    }
}
