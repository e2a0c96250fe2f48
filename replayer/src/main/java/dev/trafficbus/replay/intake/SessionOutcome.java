package dev.trafficbus.replay.intake;

/** How a replayed session ended in the ledger: each session seen ends as exactly one of these. */
public enum SessionOutcome {
    /** Replayed to its end with every captured byte. */
    REPLAYED,
    /** Replayed to its end, with holes in the captured client stream. */
    INCOMPLETE,
    /** The test server could not be reached or the connection broke. */
    FAILED,
    /** Nothing was sent (no client data, or interrupted); the reason is counted as a problem. */
    NOT_REPLAYED
}
