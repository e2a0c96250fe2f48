package dev.trafficbus.replay.socket;

import java.util.ArrayDeque;

/**
 * Caps the connections open to the target. A session that finds no free slot waits in line and is handed
 * the slot of the next session that closes.
 */
public final class ConnectionLimiter {
    private final int max;
    private final ArrayDeque<ReplaySession> waiting = new ArrayDeque<>();
    private int inUse;

    ConnectionLimiter(int max) {
        this.max = max;
    }

    /** Takes a slot now (true), or queues {@code s} for {@link ReplaySession#slotGranted()} later (false). */
    synchronized boolean acquireOrWait(ReplaySession s) {
        if (inUse < max) {
            inUse++;
            return true;
        }
        waiting.addLast(s);
        return false;
    }

    /** Gives a slot back, passing it on to the next waiting session if there is one. */
    void release() {
        ReplaySession next;
        synchronized (this) {
            next = waiting.pollFirst();
            if (next == null) {
                inUse--;
                return;
            }
        }
        next.slotGranted();
    }

    /** Takes {@code s} out of the line (it gave up before its turn); true when it was waiting. */
    synchronized boolean cancel(ReplaySession s) {
        return waiting.remove(s);
    }

    synchronized int inUse() {
        return inUse;
    }

    public synchronized int waiting() {
        return waiting.size();
    }
}
