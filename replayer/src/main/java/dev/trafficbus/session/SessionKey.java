package dev.trafficbus.session;

import dev.trafficbus.flow.FlowKey;

/**
 * Identity of one captured session: its flow and its amplification copy. Copies of one flow are separate
 * sessions, so each becomes its own connection to the target.
 *
 * @param flow the captured connection's endpoints
 * @param copy the amplification copy index (0 for the original)
 */
public record SessionKey(FlowKey flow, int copy) {
    /** Session id as published in reports and response records: {@code <flow>#<copy>}. */
    public String id() {
        return flow + "#" + copy;
    }

    // Written out: a record's own equals and hashCode are bound through method handles, which the replayer's
    // C1-compiled code calls without inlining them (3 % of the intake thread on P4's short capture, where the
    // session table looks a key up for every record).
    @Override
    public boolean equals(Object o) {
        return o instanceof SessionKey k && k.copy == copy && k.flow.equals(flow);
    }

    @Override
    public int hashCode() {
        return flow.hashCode() * 31 + copy;
    }

    @Override
    public String toString() {
        return id();
    }
}
