package dev.trafficbus.capture;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded hand-off between the capture thread (one writer) and the sending thread (one reader): encoded
 * packets with their keys, copied into one native memory region of {@code maxPendingBytes} allocated once, so the
 * backlog a slow or absent broker leaves sits outside the Java heap and the heap can be small and fixed whatever
 * the bound. The region is reserved, not touched, at start (malloc, not zeroed): only the part a backlog reaches
 * becomes resident, and writing starts again at the region's beginning whenever the reader has caught up, so a
 * forwarder keeping up stays within the first pages.
 *
 * <p>Bounded twice: by the region, and by {@code maxPendingBytes} of {@link #cost} counted from capture until Kafka
 * acknowledges or fails the record that carries the packet (so the sender's open batches and the producer's own
 * buffer are inside the bound). {@link #offer} never waits: past either bound it says no and the caller drops
 * the packet.
 *
 * <p>An entry is {@code [int value length][byte key length][byte TCP flags][long micros][key][value]}, at a
 * multiple of 8. A marker takes 8 bytes: -1 and its own position sends the reader to the beginning (at the end of
 * the region, or when the writer rewound); -2 and an offset sends it there, past a rewind's marker that the
 * reader had not read when the writer came round to it.
 */
final class PendingRing implements AutoCloseable {
    /** Receives the packets {@link #drain} takes, in capture order. */
    interface Sink {
        /**
         * One packet: its flow key in {@code key[0, keyLength)}, its encoded bytes in {@code packet[0,
         * packetLength)}. Both arrays are the ring's own, reused for the next packet: copy what is kept.
         */
        void accept(byte[] key, int keyLength, byte[] packet, int packetLength, long timestampMicros, int tcpFlags);
    }

    private static final int HEADER = 14;
    private static final int WRAP = -1;
    private static final int SKIP = -2;
    private static final int MARKER = 8; // a marker's bytes: -1, or -2 and an offset

    private final long base;
    private final ByteBuffer region;
    private final int capacity;
    private final long maxPendingBytes;
    private final AtomicLong pendingBytes = new AtomicLong();
    // Positions count bytes from the start, over every lap; the offset in the region is position % capacity.
    private final AtomicLong head = new AtomicLong(); // where the writer writes next
    private final AtomicLong tail = new AtomicLong(); // where the reader reads next
    private final AtomicLong offered = new AtomicLong(); // packets written (writer only)
    private final AtomicLong taken = new AtomicLong(); // packets read or discarded (reader only)
    private long rewindMarker = -1; // where the last rewind left its marker (writer only)
    // The reader's arrays each drained packet is copied into: no allocation per packet (keys are at most 255 bytes).
    private final byte[] drainedKey = new byte[255];
    private byte[] drainedValue = new byte[2048];
    private boolean closed;

    /** Reserves a region of {@code maxPendingBytes} (at most 2047 MB). */
    PendingRing(long maxPendingBytes) {
        if (maxPendingBytes < HEADER * 2 || maxPendingBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pending region of " + maxPendingBytes + " bytes");
        }
        this.capacity = (int) maxPendingBytes & ~7;
        this.maxPendingBytes = maxPendingBytes;
        this.base = Native.malloc(capacity);
        if (base == 0) {
            throw new OutOfMemoryError("cannot reserve " + ByteSize.format(capacity) + " for --max-pending");
        }
        this.region = new Pointer(base).getByteBuffer(0, capacity).order(ByteOrder.nativeOrder());
    }

    /**
     * What one packet counts against the bound while pending: its key, its encoded bytes and the ring's header,
     * rounded up to 8 bytes (entries start at multiples of 8, so any gap before a marker holds a skip).
     */
    static int cost(int keyLength, int valueLength) {
        return (HEADER + keyLength + valueLength + 7) & ~7;
    }

    /**
     * Capture thread: queues one encoded packet, {@code value[0, valueLength)}, of flow {@code key} with its TCP
     * flags (the low 8 bits are kept), or returns false (nothing kept) when a bound is reached.
     */
    boolean offer(byte[] key, byte[] value, int valueLength, long timestampMicros, int tcpFlags) {
        int bytes = cost(key.length, valueLength);
        // Only this thread adds; the others only subtract, so the check cannot be overtaken upward.
        if (pendingBytes.get() + bytes > maxPendingBytes) {
            return false;
        }
        long h = head.get();
        long t = tail.get();
        // A reader still at the last rewind's marker has nothing else to read before the lap that follows it: that
        // lap is free up to the marker's own bytes, which a skip jumps over.
        boolean readerAtMarker = t == rewindMarker;
        long free = readerAtMarker ? rewindMarker - rewindMarker % capacity + capacity : t;
        long markerHere = readerAtMarker ? rewindMarker + capacity : Long.MAX_VALUE;
        long at = h;
        long skipFrom = -1;
        if (at < markerHere + MARKER && at + bytes > markerHere) {
            // Right at the marker the reader passes it as one it has read (its position is a lap behind); before
            // it, a skip covers the gap.
            skipFrom = at < markerHere ? at : -1;
            at = markerHere + MARKER;
        }
        int offset = (int) (at % capacity);
        long wrapFrom = -1;
        boolean rewind = false;
        if (capacity - offset < bytes) {
            wrapFrom = at;
        } else if (t == h && offset != 0 && bytes <= offset) {
            // Caught up: back to the beginning, so a forwarder keeping up keeps touching the same few pages.
            wrapFrom = at;
            rewind = true;
        }
        if (wrapFrom >= 0) {
            at = at - offset + capacity;
        }
        if (at + bytes - free > capacity) {
            return false;
        }
        if (skipFrom >= 0) {
            int o = (int) (skipFrom % capacity);
            region.putInt(o, SKIP);
            region.putInt(o + 4, (int) ((markerHere + MARKER) % capacity));
        }
        if (wrapFrom >= 0) {
            region.putInt(offset, WRAP);
            region.putInt(offset + 4, (int) wrapFrom);
        }
        if (rewind) {
            rewindMarker = wrapFrom;
        }
        int o = (int) (at % capacity);
        region.putInt(o, valueLength);
        region.put(o + 4, (byte) key.length);
        region.put(o + 5, (byte) tcpFlags);
        region.putLong(o + 6, timestampMicros);
        region.put(o + HEADER, key);
        region.put(o + HEADER + key.length, value, 0, valueLength);
        pendingBytes.addAndGet(bytes);
        offered.lazySet(offered.get() + 1);
        head.lazySet(at + bytes); // publishes the entry to the reader
        return true;
    }

    /** Reading thread: hands up to {@code max} queued packets to {@code sink}; returns how many. */
    int drain(Sink sink, int max) {
        long t = tail.get();
        long h = head.get();
        int n = 0;
        while (n < max && t < h) {
            t = skipWrap(t);
            int o = (int) (t % capacity);
            int valueLength = region.getInt(o);
            int keyLength = region.get(o + 4) & 0xFF;
            int tcpFlags = region.get(o + 5) & 0xFF;
            long time = region.getLong(o + 6);
            if (valueLength > drainedValue.length) {
                drainedValue = new byte[Math.max(valueLength, drainedValue.length * 2)];
            }
            region.get(o + HEADER, drainedKey, 0, keyLength);
            region.get(o + HEADER + keyLength, drainedValue, 0, valueLength);
            t += cost(keyLength, valueLength);
            tail.lazySet(t);
            taken.lazySet(taken.get() + 1);
            n++;
            sink.accept(drainedKey, keyLength, drainedValue, valueLength, time, tcpFlags);
        }
        return n;
    }

    /**
     * The position of the entry at {@code t}: past a wrap marker, the next lap's beginning; past a skip, the offset
     * it names in the same lap; past a rewind's marker read a lap before (its position is not {@code t}), the next
     * bytes.
     */
    private long skipWrap(long t) {
        while (true) {
            int o = (int) (t % capacity);
            int mark = region.getInt(o);
            if (mark == WRAP) {
                t = region.getInt(o + 4) == (int) t ? t - o + capacity : t + MARKER;
            } else if (mark == SKIP) {
                t = t - o + region.getInt(o + 4);
            } else {
                return t;
            }
        }
    }

    /** Reading thread, when it gives up: forgets what is still queued and returns how many packets that was. */
    long discard() {
        long t = tail.get();
        long h = head.get();
        long n = 0;
        while (t < h) {
            t = skipWrap(t);
            int o = (int) (t % capacity);
            int bytes = cost(region.get(o + 4) & 0xFF, region.getInt(o));
            release(bytes);
            t += bytes;
            n++;
        }
        tail.lazySet(t);
        taken.lazySet(taken.get() + n);
        return n;
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
        return offered.get() - taken.get();
    }

    /** {@link #cost} of the packets captured and not yet acknowledged or failed. */
    long pendingBytes() {
        return pendingBytes.get();
    }

    long maxPendingBytes() {
        return maxPendingBytes;
    }

    /** Returns the region; only once neither thread uses the ring any more. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Native.free(base);
        }
    }
}
