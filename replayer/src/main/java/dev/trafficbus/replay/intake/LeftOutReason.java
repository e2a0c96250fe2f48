package dev.trafficbus.replay.intake;

/**
 * Why a captured session was read but not replayed, the same for both engines: the label is the key of
 * {@code leftOutByReason} in the loss ledger and of {@code sessions_left_out{reason=...}} in {@code /metrics}.
 */
public enum LeftOutReason {
    /** A previous run of the group finished it beyond its commit point (at-least-once resume). */
    ALREADY_REPLAYED("already-replayed"),
    /** It began before --from, or its SYN lies before the window start: never replayed in part. */
    STARTS_BEFORE_WINDOW("starts-before-window"),
    /** It began at or after --to. */
    STARTS_AFTER_WINDOW("starts-after-window");

    private final String label;

    LeftOutReason(String label) {
        this.label = label;
    }

    /** The name in the ledger and metrics, e.g. {@code starts-before-window}. */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
