package dev.trafficbus.replay.conversation;

/**
 * The engine's side of one replayed session: how its bytes reach the target and its answers come back. The
 * {@link SessionReplay} decides what happens and when; a transport only carries it out and reports what the
 * connection did (connected, answer bytes, closed or reset by the target, open failed) back to the session, on
 * the session's event loop.
 */
public interface Transport {
    /**
     * Opens the connection (the session calls it again whenever it is woken while waiting). False when no
     * connection slot or client endpoint is free: the transport wakes the session ({@link SessionReplay#advance})
     * once one may be. When true, {@link SessionReplay#connected} or {@link SessionReplay#openFailed} follows.
     *
     * @param first the session's first client message, or null when it has none (e.g. for a TLS server name)
     */
    boolean open(byte[] first, long now);

    /** Writes client bytes (as rewritten) after what was written before. */
    void send(byte[] bytes, long now);

    /**
     * The capture ended: closes the connection as the client did ({@code reset}: with a reset) once everything
     * written is delivered, then calls {@link SessionReplay#closeDone}.
     */
    void close(boolean reset, long now);

    /** The session's timer ran (it also runs by any time the transport {@link SessionReplay#arm armed}). */
    default void timer(long now) {
    }

    /** The session waits (for an answer, a due time, more of the capture): time to keep the connection's timers armed. */
    default void idle() {
    }

    /**
     * The session reached its outcome: ends whatever is open of the connection (a reset unless it is already
     * over) and frees its slot. No event of this session reaches the session after it.
     */
    void release();
}
