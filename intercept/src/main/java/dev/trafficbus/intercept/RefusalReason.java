package dev.trafficbus.intercept;

/** Why intercept closed a replayer's connection before or instead of serving it. */
public enum RefusalReason {
    /** The HELLO carried a token that does not match the token file. */
    BAD_TOKEN("bad-token"),
    /** The HELLO's protocol version is not ours. */
    BAD_VERSION("bad-version"),
    /** No HELLO arrived in time. */
    NO_HELLO("no-hello"),
    /** A frame broke the protocol (wrong type, bad length, bad fields). */
    PROTOCOL("protocol"),
    /** The TLS handshake failed. */
    TLS("tls"),
    /** A REGISTER overlapped a route of another, differently named replayer (a shared --instance). */
    ROUTE_CONFLICT("route-conflict");

    private final String label;

    RefusalReason(String label) {
        this.label = label;
    }

    /** The metric label, e.g. "bad-token". */
    public String label() {
        return label;
    }
}
