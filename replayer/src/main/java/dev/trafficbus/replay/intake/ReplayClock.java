package dev.trafficbus.replay.intake;

import dev.trafficbus.replay.ReplaySpeed;

/**
 * Maps capture time to wall time for a replay speed. The earliest first record of the assigned partitions
 * anchors the clock (the consumer finds it before replaying anything); each
 * session is then started at its capture offset from that record divided by the speed, and its messages
 * at their offset from the session's first packet, measured from when the session actually started.
 * At "max" speed everything is due at once.
 */
public final class ReplayClock {
    private final double speed;
    private volatile boolean anchored;
    private volatile long anchorTsMicros;
    private volatile long anchorNanos;

    public ReplayClock(ReplaySpeed speed) {
        this.speed = speed.factor();
    }

    boolean isMax() {
        return Double.isInfinite(speed);
    }

    /** Anchors the clock; later calls do nothing. Called by the consumer thread only. */
    void anchor(long tsMicros, long nowNanos) {
        if (!anchored) {
            anchorTsMicros = tsMicros;
            anchorNanos = nowNanos;
            anchored = true;
        }
    }

    /** Forgets the anchor: the next {@link #anchor} call sets it again (a new loop pass). */
    void reset() {
        anchored = false;
    }

    /** Wall time ({@link System#nanoTime}) at which a session whose first packet was captured at {@code tsMicros} starts. */
    public long sessionStartDue(long tsMicros) {
        if (isMax() || !anchored) {
            return Long.MIN_VALUE;
        }
        return anchorNanos + scaled(tsMicros - anchorTsMicros);
    }

    /** Wall time at which something captured {@code deltaMicros} after a session's start is due. */
    public long dueAfter(long sessionStartNanos, long deltaMicros) {
        if (isMax()) {
            return Long.MIN_VALUE;
        }
        return sessionStartNanos + scaled(deltaMicros);
    }

    private long scaled(long micros) {
        return (long) (micros * 1000.0 / speed);
    }
}
