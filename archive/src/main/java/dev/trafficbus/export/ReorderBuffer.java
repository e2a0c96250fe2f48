package dev.trafficbus.export;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Puts the packets of merged records in capture-time order. A record holds packets spread over a few ms and records
 * of one partition are only roughly in timestamp order, so the packets of the records the merge has released wait
 * here, by capture time, until they are older than the latest released record timestamp minus the horizon: a record
 * still to come is assumed to be no more than the horizon older than that, so no packet of it can go before them.
 * A packet that still comes older than one released already is released all the same and counted as
 * {@link #outOfOrder}. Memory stays bounded: past {@code maxBytes} of packet bytes the oldest go out at once.
 */
final class ReorderBuffer {
    private static final Comparator<ExportPacket> BY_TIME =
            Comparator.comparingLong(ExportPacket::timestampMicros).thenComparingLong(ExportPacket::order);

    private final PriorityQueue<ExportPacket> queue = new PriorityQueue<>(BY_TIME);
    private final long horizonMicros;
    private final long maxBytes;
    private long bytes;
    private long watermark = Long.MIN_VALUE;
    private long lastReleased = Long.MIN_VALUE;
    private long outOfOrder;

    /**
     * @param horizonMicros how much older than the latest released record a record still to come may be (≥ 0)
     * @param maxBytes      packet bytes held before the oldest are released regardless of the horizon
     */
    ReorderBuffer(long horizonMicros, long maxBytes) {
        if (horizonMicros < 0) {
            throw new IllegalArgumentException("negative horizon " + horizonMicros);
        }
        this.horizonMicros = horizonMicros;
        this.maxBytes = maxBytes;
    }

    /** Takes the packets of a record the merge released, stamped {@code recordTimestampMicros}. */
    void add(long recordTimestampMicros, ExportPacket[] packets) {
        watermark = Math.max(watermark, recordTimestampMicros);
        for (ExportPacket p : packets) {
            queue.add(p);
            bytes += p.length();
        }
    }

    /** The oldest packet if it may be written now (older than the horizon allows, or over the byte limit), else null. */
    ExportPacket pollReady() {
        ExportPacket head = queue.peek();
        if (head == null) {
            return null;
        }
        long limit = watermark < Long.MIN_VALUE + horizonMicros ? Long.MIN_VALUE : watermark - horizonMicros;
        return head.timestampMicros() < limit || bytes > maxBytes ? release() : null;
    }

    /** The oldest packet whatever the horizon (no record can come any more), or null when empty. */
    ExportPacket pollAny() {
        return queue.isEmpty() ? null : release();
    }

    private ExportPacket release() {
        ExportPacket p = queue.poll();
        bytes -= p.length();
        if (p.timestampMicros() < lastReleased) {
            outOfOrder++;
        } else {
            lastReleased = p.timestampMicros();
        }
        return p;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Packets released although one captured later had been released before them. */
    long outOfOrder() {
        return outOfOrder;
    }
}
