package dev.trafficbus.export;

import java.util.ArrayDeque;

/**
 * The k-way merge of partitions by capture time. Each partition is in capture order already (one forwarder appends
 * its packets in the order it read them), so the earliest packet overall is always one of the partition heads; it
 * may only be taken once every partition that can still deliver has a head, or a later-read packet could be earlier.
 * A packet a processor published late (held, then released) comes out where its partition holds it: pcap readers
 * take a file that is not quite in order, and holding everything back to sort it would bound nothing.
 * Memory stays bounded because the reader stops fetching a partition whose queue is {@link #full}: by record count
 * and by bytes, since packets range from 40 bytes to 64 KB (offloaded segments) and a count alone bounds nothing.
 */
final class TimestampMerge {
    /** One packet waiting for its turn; the bytes stay in the record value. */
    record Entry(long timestampMicros, boolean clientToServer, byte[] value, int offset, int length, int originalLength) {
    }

    private final ArrayDeque<Entry>[] queues;
    private final long[] bytes;
    private final boolean[] finished;
    private final int maxRecords;
    private final long maxBytes;

    /** A merge without limits on what a partition may buffer. */
    TimestampMerge(int partitions) {
        this(partitions, Integer.MAX_VALUE, Long.MAX_VALUE);
    }

    /** A merge whose partitions count as {@link #full} at {@code maxRecords} records or {@code maxBytes} packet bytes. */
    @SuppressWarnings("unchecked")
    TimestampMerge(int partitions, int maxRecords, long maxBytes) {
        this.maxRecords = maxRecords;
        this.maxBytes = maxBytes;
        queues = new ArrayDeque[partitions];
        bytes = new long[partitions];
        finished = new boolean[partitions];
        for (int i = 0; i < partitions; i++) {
            queues[i] = new ArrayDeque<>();
        }
    }

    void add(int partition, Entry entry) {
        queues[partition].addLast(entry);
        bytes[partition] += entry.length();
    }

    /** The partition will deliver nothing more. */
    void finish(int partition) {
        finished[partition] = true;
    }

    boolean finished(int partition) {
        return finished[partition];
    }

    /** The partition holds as much as it may: stop fetching it until the merge has taken some. */
    boolean full(int partition) {
        return queues[partition].size() >= maxRecords || bytes[partition] >= maxBytes;
    }

    /**
     * The earliest packet (ties: lowest partition), or null when a partition that is not finished has nothing
     * buffered (read more first) or everything is drained.
     */
    Entry poll() {
        int best = -1;
        long bestTs = Long.MAX_VALUE;
        // A linear scan: topics have a handful to a few dozen partitions, fewer than a heap would pay off for.
        for (int i = 0; i < queues.length; i++) {
            Entry head = queues[i].peekFirst();
            if (head == null) {
                if (!finished[i]) {
                    return null;
                }
            } else if (best < 0 || head.timestampMicros() < bestTs) {
                best = i;
                bestTs = head.timestampMicros();
            }
        }
        if (best < 0) {
            return null;
        }
        Entry e = queues[best].pollFirst();
        bytes[best] -= e.length();
        return e;
    }

    /** Every partition finished and every queue empty. */
    boolean drained() {
        for (int i = 0; i < queues.length; i++) {
            if (!finished[i] || !queues[i].isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
