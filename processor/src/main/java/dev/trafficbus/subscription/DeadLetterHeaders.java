package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;

/** The headers of the processor's dead letters (the topic names are in {@link Topics}). */
public final class DeadLetterHeaders {
    /** Why a record went to {@link Topics#DEADLETTER} (UTF-8). */
    public static final String DEADLETTER_REASON = "tb.deadletter.reason";
    /** Topic, partition and offset the record was read from (UTF-8 text). */
    public static final String DEADLETTER_TOPIC = "tb.deadletter.topic";
    public static final String DEADLETTER_PARTITION = "tb.deadletter.partition";
    public static final String DEADLETTER_OFFSET = "tb.deadletter.offset";
    /**
     * Index (UTF-8 text, 0 = first) of the packet in the input record, when one packet of a record of several
     * was dead-lettered alone (the record's other packets were processed).
     */
    public static final String DEADLETTER_PACKET = "tb.deadletter.packet";

    private DeadLetterHeaders() {
    }
}
