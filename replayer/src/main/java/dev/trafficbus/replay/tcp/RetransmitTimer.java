package dev.trafficbus.replay.tcp;

import dev.trafficbus.session.TcpSeq;

/**
 * One connection's retransmission timeout and its deadline, with Karn's rule for round-trip samples: one
 * segment is timed at a time, and never one that was retransmitted.
 */
final class RetransmitTimer {
    private static final long MAX_RTO_NANOS = 3_000_000_000L;

    private long rto;
    private long deadline;
    private boolean timing;
    private long timedSeq;
    private long timedAt;

    /** Sets the timeout (from the shared estimate, or the SYN's) and restarts the deadline from {@code now}. */
    void restart(long rtoNanos, long now) {
        rto = rtoNanos;
        deadline = now + rto;
    }

    /** Starts the deadline from {@code now} with the current timeout. */
    void start(long now) {
        deadline = now + rto;
    }

    /** After a retransmission: doubles the timeout, restarts the deadline, and stops timing. */
    void backOff(long now) {
        rto = Math.min(rto * 2, MAX_RTO_NANOS);
        deadline = now + rto;
        timing = false;
    }

    boolean due(long now) {
        return now - deadline >= 0;
    }

    long deadline() {
        return deadline;
    }

    long rto() {
        return rto;
    }

    /** Times the segment ending at {@code endSeq}, unless one is timed already. */
    void time(long endSeq, long now) {
        if (!timing) {
            timing = true;
            timedSeq = endSeq;
            timedAt = now;
        }
    }

    /** Stops timing (a retransmission makes the sample ambiguous). */
    void forget() {
        timing = false;
    }

    /** The round trip of the timed segment when {@code ack} covers it, else -1. */
    long sample(long ack, long now) {
        if (timing && TcpSeq.diff(ack, timedSeq) >= 0) {
            timing = false;
            return now - timedAt;
        }
        return -1;
    }
}
