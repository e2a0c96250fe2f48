package dev.trafficbus.capture;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded hand-off between the capture thread (one writer) and the sending thread (one reader): encoded
 * packets with their keys in a ring of parallel arrays, so handing over a packet allocates nothing. Bounded
 * twice: by slots, and by {@code maxPendingBytes} of key plus encoded packet counted from capture until Kafka
 * acknowledges or fails the record that carries the packet (so the sender's open batches and the producer's own
 * buffer are inside the bound). {@link #offer} never waits: past either bound it
 * says no and the caller drops the packet.
 */
final class PendingRing {
    /** Receives the packets {@link #drain} takes, in capture order. */
    interface Sink {
        void accept(byte[] key, byte[] packet, long timestampMicros, int tcpFlags);
    }

    private final byte[][] keys;
    private final byte[][] values;
    private final long[] times;
    private final byte[] flags;
    private final int mask;
    private final long maxPendingBytes;
    private final AtomicLong pendingBytes = new AtomicLong();
    private final AtomicLong head = new AtomicLong(); // next slot the writer fills
    private final AtomicLong tail = new AtomicLong(); // next slot the reader takes

    /** {@code slots} is rounded up to a power of two. */
    PendingRing(int slots, long maxPendingBytes) {
        int size = Integer.highestOneBit(Math.max(2, slots - 1)) << 1;
        keys = new byte[size][];
        values = new byte[size][];
        times = new long[size];
        flags = new byte[size];
        mask = size - 1;
        this.maxPendingBytes = maxPendingBytes;
    }

    /** Slots for a byte bound: enough for small records (~64 bytes) up to it, within 1 K..1 M. */
    static int slotsFor(long maxPendingBytes) {
        return (int) Math.max(1024, Math.min(1 << 20, maxPendingBytes / 64));
    }

    /**
     * Capture thread: queues one encoded packet of flow {@code key} with its TCP flags (the low 8 bits are kept),
     * or returns false (nothing kept) when a bound is reached.
     */
    boolean offer(byte[] key, byte[] value, long timestampMicros, int tcpFlags) {
        int bytes = key.length + value.length;
        // Only this thread adds; the others only subtract, so the check cannot be overtaken upward.
        if (pendingBytes.get() + bytes > maxPendingBytes) {
            return false;
        }
        long h = head.get();
        if (h - tail.get() > mask) {
            return false;
        }
        int i = (int) h & mask;
        keys[i] = key;
        values[i] = value;
        times[i] = timestampMicros;
        flags[i] = (byte) tcpFlags;
        pendingBytes.addAndGet(bytes);
        head.lazySet(h + 1); // publishes the slot's contents to the reader
        return true;
    }

    /** Reading thread: hands up to {@code max} queued packets to {@code sink}; returns how many. */
    int drain(Sink sink, int max) {
        long t = tail.get();
        long available = head.get() - t;
        int n = (int) Math.min(available, max);
        for (int k = 0; k < n; k++) {
            int i = (int) (t + k) & mask;
            byte[] key = keys[i];
            byte[] value = values[i];
            long time = times[i];
            int tcpFlags = flags[i] & 0xFF;
            keys[i] = null;
            values[i] = null;
            tail.lazySet(t + k + 1);
            sink.accept(key, value, time, tcpFlags);
        }
        return n;
    }

    /** Reading thread, when it gives up: forgets what is still queued and returns how many packets that was. */
    long discard() {
        long t = tail.get();
        long h = head.get();
        for (long s = t; s < h; s++) {
            int i = (int) s & mask;
            release(keys[i].length + values[i].length);
            keys[i] = null;
            values[i] = null;
        }
        tail.lazySet(h);
        return h - t;
    }

    /** Packets handed over earlier were acknowledged, failed or discarded: their bytes no longer count. */
    void release(long bytes) {
        pendingBytes.addAndGet(-bytes);
    }

    boolean isEmpty() {
        return head.get() == tail.get();
    }

    /** Packets queued and not yet taken by the reader. */
    long queued() {
        return head.get() - tail.get();
    }

    /** Key plus encoded packet bytes captured and not yet acknowledged or failed. */
    long pendingBytes() {
        return pendingBytes.get();
    }

    long maxPendingBytes() {
        return maxPendingBytes;
    }
}
