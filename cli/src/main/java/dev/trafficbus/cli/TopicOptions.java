package dev.trafficbus.cli;

import picocli.CommandLine.Option;

import java.util.Map;

/**
 * The settings of the topics a command creates (a picocli mixin): {@code --partitions} and
 * {@code --replication-factor}. A topic that exists keeps its own; the command says where they differ.
 */
public final class TopicOptions {
    /** Partitions of a topic created without --partitions. */
    public static final int DEFAULT_PARTITIONS = 6;

    @Option(names = "--partitions", paramLabel = "N",
            description = "Partitions of the topics this command creates (default: " + DEFAULT_PARTITIONS + ").")
    Integer partitions;

    @Option(names = "--replication-factor", paramLabel = "N",
            description = "Replicas of each partition of the topics this command creates (default: min(3, brokers)).")
    Integer replicationFactor;

    /** The spec of {@code topic} with these options and {@code configs}; throws a user error for a bad count. */
    public TopicSpec spec(String topic, Map<String, String> configs) {
        if (partitions != null && partitions < 1) {
            throw new UserInputException("--partitions " + partitions + " must be at least 1");
        }
        if (replicationFactor != null && (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE)) {
            throw new UserInputException("--replication-factor " + replicationFactor + " must be at least 1");
        }
        return new TopicSpec(topic, partitions == null ? 0 : partitions,
                replicationFactor == null ? 0 : replicationFactor, configs);
    }

    /** Sets the options as if given (for components wired in-process, and tests). */
    public TopicOptions set(Integer partitions, Integer replicationFactor) {
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        return this;
    }
}
