package dev.trafficbus.intercept;

/** Why a captured packet was not relayed; the label is the {@code reason} of the dropped-packets counter. */
public enum DropReason {
    /** No replayer registered the destination before the hold time ran out. */
    NO_ROUTE("no-route"),
    /** The hold area for packets waiting for their route was full. */
    HOLD_FULL("hold-full"),
    /** The owning replayer's queue was full: it reads slower than responses arrive. */
    QUEUE_FULL("queue-full"),
    /** The owning replayer's connection closed before the packet was written to it. */
    CLIENT_GONE("client-gone"),
    /** Relayed bytes would not fit the frame's 16-bit packet length. */
    TOO_LARGE("too-large"),
    /** The link-layer frame does not carry IPv4 or IPv6. */
    NOT_IP("not-ip"),
    /** IP, but not TCP. */
    NOT_TCP("not-tcp"),
    /** An IP fragment: its TCP header cannot be read alone. */
    FRAGMENT("fragment"),
    /** The capture cut the packet (snap length). */
    TRUNCATED("truncated"),
    /** Header fields that contradict each other. */
    MALFORMED("malformed"),
    /** libpcap handed the packet over, but it could not be read back from the capture's memory (expected never). */
    UNREADABLE("unreadable"),
    /** Relaying failed unexpectedly (a bug; logged). */
    RELAY_ERROR("relay-error");

    private final String label;

    DropReason(String label) {
        this.label = label;
    }

    /** The metric label, e.g. "queue-full". */
    public String label() {
        return label;
    }
}
