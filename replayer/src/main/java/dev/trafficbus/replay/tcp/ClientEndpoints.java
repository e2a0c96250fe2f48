package dev.trafficbus.replay.tcp;

import io.netty.util.collection.LongObjectHashMap;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Hands out fake client endpoints (address from the range, port from this instance's block) so that no two
 * live sessions, amplified copies included, share a 4-tuple, and a released endpoint stays out of use for
 * the quarantine time (the test server may still hold it in TIME_WAIT or see late packets).
 * Instances own disjoint port blocks, so replayers sharing one range never collide either.
 * Single-threaded (the engine thread).
 * <p>
 * Kept without an object per endpoint: a run of many short sessions holds every endpoint it released in the last
 * minute (55,000 on P4's short capture), and as boxed map entries they were old-generation garbage for the
 * collector to trace. Releases come in time order and all wait the same quarantine, so they expire in the order
 * they were queued: the oldest is checked on every acquire.
 */
public final class ClientEndpoints {
    private static final Object BUSY = "busy";
    private static final Object QUARANTINED = "quarantined";

    /** Number of port blocks, one per replayer instance. */
    public static final int BLOCKS = 15;
    /** Ports per block. */
    public static final int BLOCK_SIZE = 4096;
    /** First port of block 0. */
    public static final int FIRST_PORT = 2048;

    private final ClientRange range;
    private final int firstPort;
    private final long total;
    private final long quarantineNanos;
    private final long networkLow;
    /** Every endpoint not free to hand out: {@link #BUSY} or {@link #QUARANTINED}. */
    private final LongObjectHashMap<Object> held = new LongObjectHashMap<>();
    /** Quarantined endpoints in release order, each with the nanoTime it is free again: id, until, id, until, ... */
    private long[] released = new long[2 * 64];
    private int releasedHead;
    private int releasedCount;
    private int busy;
    private long cursor;

    /** Endpoints of {@code range} in the port block of {@code instance}. */
    public ClientEndpoints(ClientRange range, int instance, long quarantineNanos) {
        this.range = range;
        this.firstPort = firstPort(instance);
        this.total = range.hosts() > Long.MAX_VALUE / BLOCK_SIZE ? Long.MAX_VALUE : range.hosts() * BLOCK_SIZE;
        this.quarantineNanos = quarantineNanos;
        this.networkLow = low8(range.network(), 0);
        // A restarted replayer must not begin where the last run began: the test server may still hold those
        // 4-tuples (a run killed before its resets), and our quarantine did not survive the restart.
        this.cursor = ThreadLocalRandom.current().nextLong(total);
    }

    /** The first port of an instance's block. */
    public static int firstPort(int instance) {
        return FIRST_PORT + instance * BLOCK_SIZE;
    }

    /** The last port of an instance's block. */
    public static int lastPort(int instance) {
        return firstPort(instance) + BLOCK_SIZE - 1;
    }

    /** The range addresses come from. */
    public ClientRange range() {
        return range;
    }

    /**
     * A free endpoint id (decode with {@link #address} and {@link #port}), or -1 when every endpoint is in use
     * or quarantined.
     */
    public long acquire(long nowNanos) {
        expire(nowNanos);
        long tries = Math.min(total, 1_000_000);
        for (long i = 0; i < tries; i++) {
            long id = cursor;
            cursor = cursor + 1 == total ? 0 : cursor + 1;
            if (held.containsKey(id)) {
                continue;
            }
            held.put(id, BUSY);
            busy++;
            return id;
        }
        return -1;
    }

    /** Gives an endpoint back; it is reused only after the quarantine. */
    public void release(long id, long nowNanos) {
        if (held.get(id) != BUSY) {
            return;
        }
        held.put(id, QUARANTINED);
        busy--;
        if (2 * releasedCount == released.length) {
            long[] grown = new long[2 * released.length];
            for (int i = 0; i < releasedCount; i++) {
                int at = (2 * (releasedHead + i)) % released.length;
                grown[2 * i] = released[at];
                grown[2 * i + 1] = released[at + 1];
            }
            released = grown;
            releasedHead = 0;
        }
        int at = (2 * (releasedHead + releasedCount)) % released.length;
        released[at] = id;
        released[at + 1] = nowNanos + quarantineNanos;
        releasedCount++;
    }

    /** Endpoints in use. */
    public int inUse() {
        return busy;
    }

    /** Endpoints released and not yet free again. */
    int quarantined() {
        return releasedCount;
    }

    /** Writes the endpoint's address into {@code out} at {@code off}. */
    public void address(long id, byte[] out, int off) {
        range.host(id % range.hosts(), out, off);
    }

    /** The endpoint's port. */
    public int port(long id) {
        return firstPort + (int) (id / range.hosts());
    }

    /**
     * The endpoint id of address {@code a} (at {@code off}, the range's length) and {@code port}, or -1 when
     * they are not one of this instance's endpoints.
     */
    public long idOf(byte[] a, int off, int port) {
        int p = port - firstPort;
        if (p < 0 || p >= BLOCK_SIZE || !range.contains(a, off, range.addressLength())) {
            return -1;
        }
        // hosts() is below 2^62, so the low 8 bytes hold the whole host number.
        long host = low8(a, off) - networkLow - range.firstHostOffset();
        if (host < 0 || host >= range.hosts()) {
            return -1;
        }
        return host + (long) p * range.hosts();
    }

    /** The last (up to) 8 bytes of the range-sized address at {@code off}, as a number. */
    private long low8(byte[] a, int off) {
        int n = range.addressLength();
        long v = 0;
        for (int i = Math.max(0, n - 8); i < n; i++) {
            v = (v << 8) | (a[off + i] & 0xff);
        }
        return v;
    }

    /** Frees the quarantined endpoints whose time is up: the oldest releases, at the head of the queue. */
    private void expire(long nowNanos) {
        while (releasedCount > 0) {
            int at = 2 * releasedHead;
            if (released[at + 1] - nowNanos > 0) {
                return;
            }
            held.remove(released[at]);
            releasedHead = releasedHead + 1 == released.length / 2 ? 0 : releasedHead + 1;
            releasedCount--;
        }
    }
}
