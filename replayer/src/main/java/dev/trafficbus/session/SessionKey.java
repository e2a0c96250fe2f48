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

    @Override
    public String toString() {
        return id();
    }
}
