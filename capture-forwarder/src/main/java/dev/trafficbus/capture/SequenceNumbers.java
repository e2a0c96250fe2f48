package dev.trafficbus.capture;

/**
 * Per-source sequence numbers that stay unique and increasing across forwarder restarts without any stored
 * state: a run numbers its packets from {@code runStartMillis × 2^21} upward. A later run starts higher as long
 * as the previous one averaged fewer than 2^21 packets per millisecond (two billion per second), and the value
 * stays a positive long until the year 2109. Within a run the numbers are consecutive, so a consumer sees a gap
 * wherever a packet was captured but not published (and the forwarder counted it as dropped).
 */
public final class SequenceNumbers {
    /** Bits of the per-run counter below the run's start time. */
    public static final int COUNTER_BITS = 21;

    private SequenceNumbers() {
    }

    /** The first sequence number of a run that starts at {@code epochMillis}. */
    public static long runBase(long epochMillis) {
        return epochMillis << COUNTER_BITS;
    }

    /** The start time (Unix milliseconds) of the run that numbered {@code sequence}, while its counter stayed below 2^21. */
    public static long runStartMillis(long sequence) {
        return sequence >>> COUNTER_BITS;
    }
}
