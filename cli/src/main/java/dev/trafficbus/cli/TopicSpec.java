package dev.trafficbus.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a command wants a topic it creates: partitions, replication factor and topic configs (retention, cleanup
 * policy, max.message.bytes, ...). A topic that exists already keeps its settings; {@link TopicState#differences}
 * says where it differs.
 *
 * @param name              the topic
 * @param partitions        partitions; 0 when not asked (the command's default)
 * @param replicationFactor replicas per partition; 0 when not asked ({@link KafkaAdmin#defaultReplication(int) min(3, brokers)})
 * @param configs           topic configs set at creation (an unmodifiable copy)
 */
public record TopicSpec(String name, int partitions, int replicationFactor, Map<String, String> configs) {
    public TopicSpec {
        configs = Map.copyOf(configs);
    }

    /** A topic of {@code partitions} partitions with the default replication and no configs. */
    public static TopicSpec of(String name, int partitions) {
        return new TopicSpec(name, partitions, 0, Map.of());
    }

    /** The same spec with one more topic config. */
    public TopicSpec with(String config, String value) {
        Map<String, String> c = new LinkedHashMap<>(configs);
        c.put(config, value);
        return new TopicSpec(name, partitions, replicationFactor, c);
    }

    /** The same spec for another topic. */
    public TopicSpec named(String topic) {
        return new TopicSpec(topic, partitions, replicationFactor, configs);
    }
}
