package dev.trafficbus.replay.conversation;

/**
 * A protocol whose frames both directions carry after the conversation recognised it (HTTP/2, WebSocket): fed
 * every byte each side sends, it says when its framing can no longer be read, and the conversation then leaves
 * framing for the rest of the session.
 */
interface FramedSession {
    /** The client's bytes, as they will be sent (a session may rewrite them in place, e.g. masking keys). */
    void clientBytes(byte[] b, int off, int len);

    /** The server's bytes, in order. */
    void serverBytes(byte[] b, int off, int len);

    /** Either direction could not be read as this protocol's frames. */
    boolean broken();
}
