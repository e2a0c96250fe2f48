package dev.trafficbus.capture;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded hand-off between the capture thread (one writer) and the sending thread (one reader): encoded
 * records in a ring of parallel arrays, so handing over a packet allocates nothing. Bounded twice: by slots,
 * and by {@code maxPendingBytes} of key plus value counted from capture until Kafka acknowledges or fails the
 * record (so the producer's own buffer is inside the bound). {@link #offer} never waits: past either bound it
 * says no and the caller drops the packet.
 */
final class PendingRing {
    /** Receives the records {@link #drain} takes, in capture order. */
    interface Sink {
        void accept(byte[] key, byte[] value, long timestampMicros);
    }

    private final byte[][] keys;
    private final byte[][] values;
    private final long[] times;
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
        mask = size - 1;
        this.maxPendingBytes = maxPendingBytes;
    }

    /** Slots for a byte bound: enough for small records (~64 bytes) up to it, within 1 K..1 M. */
    static int slotsFor(long maxPendingBytes) {
        return (int) Math.max(1024, Math.min(1 << 20, maxPendingBytes / 64));
    }

    /** Capture thread: queues a record, or returns false (nothing kept) when a bound is reached. */
    boolean offer(byte[] key, byte[] value, long timestampMicros) {
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
        pendingBytes.addAndGet(bytes);
        head.lazySet(h + 1); // publishes the slot's contents to the reader
        return true;
    }

    /** Reading thread: hands up to {@code max} queued records to {@code sink}; returns how many. */
    int drain(Sink sink, int max) {
        long t = tail.get();
        long available = head.get() - t;
        int n = (int) Math.min(available, max);
        for (int k = 0; k < n; k++) {
            int i = (int) (t + k) & mask;
            byte[] key = keys[i];
            byte[] value = values[i];
            long time = times[i];
            keys[i] = null;
            values[i] = null;
            tail.lazySet(t + k + 1);
            sink.accept(key, value, time);
        }
        return n;
    }

    /** Reading thread, when it gives up: forgets what is still queued and returns how many records that was. */
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

    /** A record handed over earlier was acknowledged or failed: its bytes no longer count. */
    void release(int bytes) {
        pendingBytes.addAndGet(-bytes);
    }

    boolean isEmpty() {
        return head.get() == tail.get();
    }

    /** Records queued and not yet taken by the reader. */
    long queued() {
        return head.get() - tail.get();
    }

    /** Key plus value bytes captured and not yet acknowledged or failed. */
    long pendingBytes() {
        return pendingBytes.get();
    }

    long maxPendingBytes() {
        return maxPendingBytes;
    }
}
