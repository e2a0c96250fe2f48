package dev.trafficbus.bus;

/**
 * Names of the consumer groups trafficbus components use by default, declared once: the replayer uses them, and
 * access control grants them.
 */
public final class ConsumerGroups {
    /** Default Kafka Streams application id (= consumer group, prefix of its internal topics) of the processor. */
    public static final String PROCESSOR = "trafficbus-processor";
    /** Prefix of the replayer's default group; the topic name follows it. */
    public static final String REPLAY_PREFIX = "trafficbus-replay-";

    private ConsumerGroups() {
    }

    /** The group a replay of {@code topic} joins when no {@code --group} is given. */
    public static String replayDefault(String topic) {
        return REPLAY_PREFIX + topic;
    }
}
