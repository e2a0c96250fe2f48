package dev.trafficbus.replay.conversation;

/**
 * One captured client message waiting in a replayed session (either engine), with what the capture says
 * about its answer: production's size for the answer policy, production's answer time for the report.
 */
public final class CapturedMessage {
    /** The bytes, or null once written (or dropped). */
    public byte[] bytes;
    /** Capture time of the message's first byte. */
    public final long tsMicros;
    /** Bytes production answered; final once {@link #settled}. */
    public long expected;
    public boolean settled;
    /** What the message asked for (set when it was written), for the report. */
    String endpoint;
    /** Production's answer time from the capture, -1 until known. */
    long productionMicros = -1;
    /** Its replayed answer was judged (complete or timed out). */
    boolean judged;

    public CapturedMessage(byte[] bytes, long tsMicros) {
        this.bytes = bytes;
        this.tsMicros = tsMicros;
    }
}
