package dev.trafficbus.session;

/**
 * What a {@link CapturedSession} tells the engine that replays it, in order. Called on the thread that
 * feeds the session; implementations hand the events to wherever the replay runs.
 */
public interface SessionEvents {
    /**
     * Message {@code index} (0, 1, ...) is complete: the bytes the client sent before waiting for an
     * answer, and the capture time of its first byte.
     */
    void message(int index, byte[] bytes, long captureTimeMicros);

    /**
     * How many bytes the server sent in answer to message {@code index} ({@code -1}: before the first
     * message, e.g. a greeting). Not {@code settled}: a lower bound that may still grow.
     */
    void expectedResponse(int index, long bytes, boolean settled);

    /**
     * New bytes the server sent, in stream order (retransmissions left out), after message {@code index}
     * ({@code -1}: before the first). The array is only valid during the call. Ignored by default.
     */
    default void serverData(int index, byte[] b, int off, int len, long captureTimeMicros) {
    }

    /**
     * How long production took to answer message {@code index}: from the client's last byte of it to the
     * server's last byte before the next message, in capture microseconds. Sent once the answer is settled,
     * only when the capture holds server bytes for it. Ignored by default.
     */
    default void productionAnswer(int index, long micros) {
    }

    /** The captured connection is over; no event follows. */
    void end(SessionEnd end);
}
