package dev.trafficbus.replay.intake;

import dev.trafficbus.replay.ReplaySpeed;

/**
 * Maps capture time to wall time for a replay speed. The earliest first record of the assigned partitions
 * anchors the capture side of the clock (the consumer finds it before replaying anything). The wall side starts
 * when the first session asks when it is due, and is settled when the first session whose time has come has its
 * first message ready (its connection is open): the clock moves by how late that was, and until then the other
 * sessions whose time has come wait. So joining
 * the group, fetching the first records and opening the first connection (slow in a cold process on a busy
 * machine) shift the whole replay instead of making the first sessions overdue and sending the start of the
 * capture as a burst. Each session is then started at its capture offset from that record divided by the
 * speed, and its messages at their offset from the session's first packet, measured from when the session
 * actually started (and moved on by however much longer its connection took to open than the captured one did).
 * At "max" speed everything is due at once. At speed 1 within a few seconds of the capture (following a topic
 * live), a session captured more recently than the clock's delay brings the clock forward to it.
 */
public final class ReplayClock {
    private static final long NOT_STARTED = Long.MIN_VALUE;
    /** The other sessions wait at most this long for the first one's connection (it may be refused). */
    private static final long HOLD_MAX_NANOS = 5_000_000_000L;
    /** How often a waiting session asks again. */
    private static final long HOLD_POLL_NANOS = 5_000_000L;
    /** A clock this close behind the capture follows its live edge (speed 1). */
    private static final long LIVE_LAG_MICROS = 5_000_000L;
    /**
     * How far behind the capture a live clock stays: more than the records of one forwarder batch lie apart
     * (--batch-window 5 ms and linger.ms 10 by default), so the sessions of one batch keep their gaps.
     */
    private static final long KEPT_UP_SLACK_NANOS = 25_000_000L;
    /** The clock comes forward only by more than this: not at every session. */
    private static final long KEPT_UP_STEP_NANOS = 5_000_000L;
    private final double speed;
    private volatile boolean anchored;
    private volatile long anchorTsMicros;
    // Written under the lock before the clock is settled (any engine thread), read without it afterwards.
    private volatile long anchorNanos = NOT_STARTED;
    private volatile boolean settled;
    private boolean pioneer;
    private long pioneerTsMicros;

    public ReplayClock(ReplaySpeed speed) {
        this.speed = speed.factor();
    }

    boolean isMax() {
        return Double.isInfinite(speed);
    }

    /** Anchors the capture side of the clock; later calls do nothing. Called by the consumer thread only. */
    synchronized void anchor(long tsMicros) {
        if (!anchored) {
            anchorTsMicros = tsMicros;
            anchorNanos = NOT_STARTED;
            settled = false;
            pioneer = false;
            anchored = true;
        }
    }

    /** Forgets the anchor: the next {@link #anchor} call sets it again (a new loop pass). */
    synchronized void reset() {
        anchored = false;
    }

    /**
     * Wall time ({@link System#nanoTime}) at which a session whose first packet was captured at {@code tsMicros}
     * starts. The first call starts the clock (the anchoring record is due now); until the first session let
     * through has its first message ready, the others are told to ask again shortly once their time has come.
     */
    public long sessionStartDue(long tsMicros) {
        if (isMax() || !anchored) {
            return Long.MIN_VALUE;
        }
        if (!settled) {
            synchronized (this) {
                if (!settled) {
                    return dueBeforeSettled(tsMicros, System.nanoTime());
                }
            }
        }
        long due = anchorNanos + scaled(tsMicros - anchorTsMicros);
        return keptUp(due, tsMicros);
    }

    /**
     * Following a topic at its live edge, the clock would keep the delay of the session that anchored it for the
     * whole run: one whose record came late (a producer's first send waits for its metadata, 400 ms) held every
     * later request back as long. While the clock's delay behind the capture (by this host's wall clock) is
     * under {@link #LIVE_LAG_MICROS}, a session whose record came sooner after its capture than that delay brings
     * the clock forward to it, less {@link #KEPT_UP_SLACK_NANOS}; a replay of older records keeps its pace.
     */
    private long keptUp(long due, long tsMicros) {
        if (liveAdvance(due, tsMicros) == 0) {
            return due;
        }
        synchronized (this) {
            long again = liveAdvance(anchorNanos + scaled(tsMicros - anchorTsMicros), tsMicros);
            anchorNanos -= again; // another session may have brought it forward meanwhile
            return anchorNanos + scaled(tsMicros - anchorTsMicros);
        }
    }

    /**
     * How much sooner than {@code due} something captured at {@code tsMicros} may be sent because the replay
     * follows the capture live (speed 1, within {@link #LIVE_LAG_MICROS} of it): what its record arrived sooner
     * than the clock's delay, less {@link #KEPT_UP_SLACK_NANOS}; 0 when it keeps its time. A session's messages
     * come forward with it, so one late record does not hold back the rest of a long keep-alive session.
     */
    public long liveAdvance(long due, long tsMicros) {
        if (speed != 1.0 || due == Long.MIN_VALUE) {
            return 0;
        }
        long ahead = due - System.nanoTime() - KEPT_UP_SLACK_NANOS;
        if (ahead <= KEPT_UP_STEP_NANOS) {
            return 0;
        }
        long ageMicros = Math.max(0, System.currentTimeMillis() * 1000 - tsMicros);
        return ageMicros + ahead / 1000 > LIVE_LAG_MICROS ? 0 : ahead;
    }

    private long dueBeforeSettled(long tsMicros, long now) {
        if (anchorNanos == NOT_STARTED) {
            anchorNanos = now;
        }
        long due = anchorNanos + scaled(tsMicros - anchorTsMicros);
        if (due > now) {
            return due;
        }
        // The first session whose time has come opens the first connection; one captured later may ask first
        // (its partition was read first) and is only told its time.
        if (!pioneer) {
            pioneer = true;
            pioneerTsMicros = tsMicros;
        }
        if (tsMicros == pioneerTsMicros) {
            return due;
        }
        if (now - anchorNanos >= HOLD_MAX_NANOS) {
            settle(now - anchorNanos);
            return anchorNanos + scaled(tsMicros - anchorTsMicros);
        }
        return now + HOLD_POLL_NANOS;
    }

    private void settle(long lateNanos) {
        if (lateNanos > 0) {
            anchorNanos += lateNanos;
        }
        settled = true;
    }

    /**
     * Wall time at which something captured {@code deltaMicros} after a session's start is due. The first call
     * after the clock started comes from the first session as soon as it is connected and settles the clock:
     * when it comes later than that message was due, every session not yet started starts that much later too,
     * so the gaps between sessions stay as captured.
     */
    public long dueAfter(long sessionStartNanos, long deltaMicros) {
        if (isMax()) {
            return Long.MIN_VALUE;
        }
        long due = sessionStartNanos + scaled(deltaMicros);
        if (!settled) {
            synchronized (this) {
                if (!settled && anchored && anchorNanos != NOT_STARTED) {
                    settle(System.nanoTime() - due);
                }
            }
        }
        return due;
    }

    private long scaled(long micros) {
        return (long) (micros * 1000.0 / speed);
    }
}
