package dev.trafficbus.export;

import java.util.ArrayDeque;

/**
 * The k-way merge of partitions by record timestamp (a record's first packet's capture time). A partition holds its
 * records roughly in that order (a forwarder publishes a flow's batch when it closes, so a batch closed early can
 * precede an older one still open, by a few ms), so the earliest record overall is almost always a partition head;
 * it may only be taken once every partition that can still deliver has a head, or a later-read record could be
 * earlier. The packets of the records taken are put in capture-time order by a {@link ReorderBuffer}.
 * Memory stays bounded because the reader stops fetching a partition whose queue is {@link #full}: by record count
 * and by packet bytes, since a record holds one packet of 40 bytes to many packets of up to 64 KB each.
 */
final class TimestampMerge {
    /** One record waiting for its turn: its timestamp and the packets of it that are to be written. */
    record Entry(long timestampMicros, ExportPacket[] packets, long bytes) {
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
        bytes[partition] += entry.bytes();
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
     * The earliest record (ties: lowest partition), or null when a partition that is not finished has nothing
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
        bytes[best] -= e.bytes();
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
