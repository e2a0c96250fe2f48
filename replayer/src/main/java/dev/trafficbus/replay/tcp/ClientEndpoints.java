package dev.trafficbus.replay.tcp;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hands out fake client endpoints (address from the range, port from this instance's block) so that no two
 * live sessions, amplified copies included, share a 4-tuple, and a released endpoint stays out of use for
 * the quarantine time (the test server may still hold it in TIME_WAIT or see late packets).
 * Instances own disjoint port blocks, so replayers sharing one range never collide either.
 * Single-threaded (the engine thread).
 */
public final class ClientEndpoints {
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
    private final Set<Long> busy = new HashSet<>();
    private final Map<Long, Long> quarantined = new HashMap<>();
    private long cursor;
    private long lastPrune;

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
        if (nowNanos - lastPrune > 1_000_000_000L) {
            prune(nowNanos);
        }
        long tries = Math.min(total, 1_000_000);
        for (long i = 0; i < tries; i++) {
            long id = cursor;
            cursor = cursor + 1 == total ? 0 : cursor + 1;
            if (busy.contains(id)) {
                continue;
            }
            Long until = quarantined.get(id);
            if (until != null) {
                if (until - nowNanos > 0) {
                    continue;
                }
                quarantined.remove(id);
            }
            busy.add(id);
            return id;
        }
        return -1;
    }

    /** Gives an endpoint back; it is reused only after the quarantine. */
    public void release(long id, long nowNanos) {
        if (busy.remove(id)) {
            quarantined.put(id, nowNanos + quarantineNanos);
        }
    }

    /** Endpoints in use. */
    public int inUse() {
        return busy.size();
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

    private void prune(long nowNanos) {
        lastPrune = nowNanos;
        Iterator<Long> it = quarantined.values().iterator();
        while (it.hasNext()) {
            if (it.next() - nowNanos <= 0) {
                it.remove();
            }
        }
    }
}
