package dev.trafficbus.replay.conversation;

import java.util.Locale;

/**
 * How the end of one answer was recognised. Only {@link #FRAMING} knows; the others are the fall-backs
 * for protocols the replay cannot read (or answers it cannot see), and a run that counts many of them
 * replayed with guessed pacing.
 */
public enum Judgement {
    /** The protocol's framing (HTTP/1.x, HTTP/2 streams, Redis RESP) says every request of the message has its answer. */
    FRAMING,
    /** As many bytes arrived as production sent (or production sent none and none were awaited). */
    SIZE,
    /** Bytes arrived, then nothing for the quiet period: taken as complete, a guess. */
    SILENCE,
    /** The target closed the connection. */
    CLOSE,
    /** No complete answer within the response timeout. */
    TIMEOUT;

    /** The name used in reports and metrics labels: {@code framing}, {@code size}, ... */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
