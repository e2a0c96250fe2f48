package dev.trafficbus.replay.intake;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sessions holding a connection slot that cannot go on until more of the capture is consumed, in all and per
 * partition: the intake holds back the partitions nobody waits on and goes on reading those a slot waits on.
 * Sessions change the counts from their event loops, the intake reads them from the consumer thread.
 */
public final class StarvedSlots {
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<Integer, AtomicInteger> byPartition = new ConcurrentHashMap<>();

    /** The count of {@code partition}, for a session to keep (looked up once per session, not per change). */
    public AtomicInteger of(int partition) {
        return byPartition.computeIfAbsent(partition, p -> new AtomicInteger());
    }

    /** A session of the partition whose count is {@code partition} starts ({@code +1}) or stops ({@code -1}) starving. */
    public void change(AtomicInteger partition, int delta) {
        partition.addAndGet(delta);
        total.addAndGet(delta);
    }

    /** Starved slots in all. */
    public int total() {
        return total.get();
    }

    /** True when a slot waits for more of {@code partition}. */
    public boolean waitOn(int partition) {
        AtomicInteger n = byPartition.get(partition);
        return n != null && n.get() > 0;
    }
}
