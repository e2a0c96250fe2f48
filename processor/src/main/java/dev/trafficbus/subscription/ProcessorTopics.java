package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;

import java.util.regex.Pattern;

/** The topics the processor owns beside {@code tb.capture.*} and {@code tb.sub.*}, and its dead-letter headers. */
public final class ProcessorTopics {
    /** Compacted: key = subscription name, value = its definition as JSON; a tombstone removes it. */
    public static final String SUBSCRIPTIONS = Topics.SUBSCRIPTIONS;
    /**
     * Compacted: key = {@code <subscription>@<instance>}, value = that instance's counters as JSON, rewritten
     * every few seconds, so {@code trafficbus subscriptions} can list counters without reaching the processor.
     */
    public static final String STATS = Topics.SUBSCRIPTION_STATS;
    /** Records that could not be processed, with the reason in headers. */
    public static final String DEADLETTER = Topics.DEADLETTER;
    /** Every capture topic, present and future. */
    public static final Pattern CAPTURES = Pattern.compile(Pattern.quote(Topics.CAPTURE_PREFIX) + "[a-zA-Z0-9._-]+");

    /** Why a record went to {@link #DEADLETTER} (UTF-8). */
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

    private ProcessorTopics() {
    }
}
