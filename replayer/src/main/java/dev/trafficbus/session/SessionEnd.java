package dev.trafficbus.session;

/**
 * How a captured connection ended and what is known about its completeness.
 *
 * @param how          what ended it
 * @param synSeen      the client's SYN was captured (otherwise the capture started mid-connection)
 * @param clientClosed the client sent FIN or RST
 * @param clientReset  the client sent RST
 * @param serverClosed the server sent FIN or RST
 * @param serverReset  the server sent RST
 * @param messages     number of messages delivered
 * @param gaps         holes in the client stream that were skipped (bytes missing from the capture)
 * @param gapBytes     total size of those holes
 */
public record SessionEnd(How how, boolean synSeen, boolean clientClosed, boolean clientReset,
                         boolean serverClosed, boolean serverReset, int messages, long gaps, long gapBytes) {
    /** What ended the captured connection. */
    public enum How {
        /** Both sides sent FIN. */
        CLOSED,
        /** One side sent RST. */
        RESET,
        /** No more input: the end of the replayed range, a stop, or a new connection on the same 4-tuple. */
        END_OF_INPUT,
        /** Nothing was captured for the connection for a long time. */
        IDLE
    }

    /** The capture started after the connection was opened. */
    public boolean midConnection() {
        return !synSeen;
    }

    /** Part of the client's byte stream is missing from the capture. */
    public boolean incomplete() {
        return gaps > 0;
    }
}
