package dev.trafficbus.cli;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.TopicConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A topic as the brokers describe it.
 *
 * @param name              the topic
 * @param partitions        its partition count
 * @param replicationFactor replicas of its first partition
 * @param config            its effective configs, or null when the principal may not describe them
 * @param created           true when this command created it just now
 */
public record TopicState(String name, int partitions, int replicationFactor, Config config, boolean created) {

    /** An effective config value, or null when unknown. */
    public String value(String configName) {
        ConfigEntry e = config == null ? null : config.get(configName);
        return e == null ? null : e.value();
    }

    /** retention.ms as users write it: {@code 7d}, {@code forever}, or {@code ?} when the configs are not known. */
    public String retention() {
        String ms = value(TopicConfig.RETENTION_MS_CONFIG);
        if (ms == null) {
            return "?";
        }
        try {
            return DurationConverter.Retention.format(Long.parseLong(ms.trim()));
        } catch (NumberFormatException e) {
            return ms;
        }
    }

    /**
     * Where an existing topic differs from what {@code wanted} asks, one phrase each ("6 partitions, not 3"); empty
     * when it matches or was just created. Only what the spec asks is compared (0 partitions or replicas: not asked).
     */
    public List<String> differences(TopicSpec wanted) {
        List<String> out = new ArrayList<>();
        if (created) {
            return out;
        }
        if (wanted.partitions() > 0 && wanted.partitions() != partitions) {
            out.add(partitions + " partitions, not " + wanted.partitions());
        }
        if (wanted.replicationFactor() > 0 && wanted.replicationFactor() != replicationFactor) {
            out.add("replication factor " + replicationFactor + ", not " + wanted.replicationFactor());
        }
        for (Map.Entry<String, String> c : wanted.configs().entrySet()) {
            String actual = value(c.getKey());
            if (actual != null && !actual.equals(c.getValue())) {
                out.add(TopicConfig.RETENTION_MS_CONFIG.equals(c.getKey())
                        ? "retention " + retention() + ", not " + DurationConverter.Retention.format(Long.parseLong(c.getValue()))
                        : c.getKey() + "=" + actual + ", not " + c.getValue());
            }
        }
        return out;
    }

    /** One line for a topic that exists with other settings than asked (they are kept, and how to change them), or null. */
    public String keptLine(TopicSpec wanted) {
        List<String> d = differences(wanted);
        return d.isEmpty() ? null : "topic " + name + " exists with " + String.join(", ", d)
                + "; its settings are kept (change them with kafka-topics.sh --alter or kafka-configs.sh, or use another topic)";
    }
}
