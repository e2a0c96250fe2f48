package dev.trafficbus.intercept;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Responses captured before any replayer registered their destination: a copy waits here up to the hold time,
 * in arrival order, within a fixed budget of packets and bytes. Not thread-safe (the router's lock guards it).
 */
final class HeldResponses {
    /** A waiting packet: the relayed bytes and where its destination is inside them. */
    record Held(byte[] bytes, int addressOffset, int addressLength, int port, long deadlineNanos) {
    }

    /** Decides for a held packet whether it can go now. */
    interface Release {
        /** True when the packet was delivered (or dropped for a reason of its own) and leaves the hold. */
        boolean tryRelease(Held packet);
    }

    private final ArrayDeque<Held> queue = new ArrayDeque<>();
    private final long holdNanos;
    private final int maxPackets;
    private final long maxBytes;
    private long bytes;

    HeldResponses(long holdNanos, int maxPackets, long maxBytes) {
        this.holdNanos = holdNanos;
        this.maxPackets = maxPackets;
        this.maxBytes = maxBytes;
    }

    /** False when the hold time is zero: answers without a route are dropped at once. */
    boolean enabled() {
        return holdNanos > 0;
    }

    /** Keeps a copy of the packet; false (nothing kept) when the budget is used up or holding is disabled. */
    boolean hold(byte[] src, int off, int len, int addressOffset, int addressLength, int port, long nowNanos) {
        if (holdNanos <= 0 || queue.size() >= maxPackets || bytes + len > maxBytes) {
            return false;
        }
        byte[] copy = new byte[len];
        System.arraycopy(src, off, copy, 0, len);
        queue.addLast(new Held(copy, addressOffset - off, addressLength, port, nowNanos + holdNanos));
        bytes += len;
        return true;
    }

    /** Offers every held packet to {@code release}, in order; those it takes leave the hold. */
    void releaseAll(Release release) {
        for (Iterator<Held> it = queue.iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (release.tryRelease(h)) {
                it.remove();
                bytes -= h.bytes.length;
            }
        }
    }

    /** Removes the packets whose hold time is over; returns how many. */
    int expire(long nowNanos) {
        int n = 0;
        while (!queue.isEmpty() && queue.peekFirst().deadlineNanos - nowNanos <= 0) {
            bytes -= queue.pollFirst().bytes.length;
            n++;
        }
        return n;
    }

    /** Drops everything held; returns how many. */
    int clear() {
        int n = queue.size();
        queue.clear();
        bytes = 0;
        return n;
    }

    int size() {
        return queue.size();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }
}
