package dev.trafficbus.replay.conversation;

import dev.trafficbus.websocket.WebSocketFrames;

/**
 * Both directions of a connection after its {@code Upgrade: websocket} was answered 101: the client's frames
 * re-masked as they go, the server's read to know when an answer ends between messages, every frame counted
 * by opcode. Beside {@link Http2Session}: the conversation asks it, and leaves framing when either side breaks.
 */
final class WebSocketSession implements FramedSession, WebSocketFrames.Listener {
    private final WebSocketFrames client = new WebSocketFrames(this, true);
    private final WebSocketFrames server = new WebSocketFrames(this, false);
    private final String endpoint;
    /** Null when nobody counts frames. */
    private final WebSocketCounts counts;

    /** {@code upgradeEndpoint} is the upgrading request's ("GET /path"): the session's messages are "WS /path". */
    WebSocketSession(String upgradeEndpoint, WebSocketCounts counts) {
        int sp = upgradeEndpoint == null ? -1 : upgradeEndpoint.indexOf(' ');
        endpoint = sp < 0 ? "WS" : "WS" + upgradeEndpoint.substring(sp);
        this.counts = counts;
        if (counts != null) {
            counts.upgraded();
        }
    }

    /** The client's frames about to be sent: masking keys regenerated in place. */
    @Override
    public void clientBytes(byte[] b, int off, int len) {
        client.feed(b, off, len);
    }

    @Override
    public void serverBytes(byte[] b, int off, int len) {
        server.feed(b, off, len);
    }

    @Override
    public boolean broken() {
        return client.broken() || server.broken();
    }

    /** The server's bytes so far end on a message boundary. */
    boolean serverBetweenMessages() {
        return server.betweenMessages();
    }

    /** Every message of the session is reported under this endpoint. */
    String endpoint() {
        return endpoint;
    }

    @Override
    public void frame(WebSocketFrames from, int opcode) {
        if (counts != null) {
            if (from == client) {
                counts.sent(opcode);
            } else {
                counts.received(opcode);
            }
        }
    }
}
