package dev.trafficbus.status;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * What {@code trafficbus status} found on the bus: capture sources, subscriptions with their counters, consumer
 * groups with their lag, and the ledgers of the latest replay runs.
 *
 * @param bootstrapServers the brokers asked
 * @param sources          one entry per {@code tb.capture.*} topic
 * @param subscriptions    one entry per subscription known from a topic, a definition or counters
 * @param groups           consumer groups with their committed offsets and lag per topic
 * @param runs             the latest runs from {@code tb.runs}, newest first
 */
public record StatusReport(String bootstrapServers, List<TopicStats> sources, List<SubscriptionStatus> subscriptions,
                           List<GroupStatus> groups, List<RunStatus> runs) {

    /**
     * One topic's size.
     *
     * @param topic        the topic
     * @param partitions   its partition count
     * @param replicationFactor replicas of each partition
     * @param retention    how long it keeps records ({@code 7d}, {@code forever}; {@code ?} when its configs may not be read)
     * @param records      records still held (end minus start offsets, summed over partitions)
     * @param newestMillis timestamp of its newest record, null when it holds none
     */
    public record TopicStats(String topic, int partitions, int replicationFactor, String retention, long records,
                             Long newestMillis) {
    }

    /**
     * One subscription.
     *
     * @param name       the subscription name
     * @param topic      its output topic stats, null when {@code tb.sub.<name>} does not exist yet
     * @param definition its definition from {@code tb.subscriptions} (YAML or JSON text), null when not stored
     * @param counters   its counters from {@code tb.subscription-stats}, summed over processor instances
     * @param instances  how many processor instances reported counters
     */
    public record SubscriptionStatus(String name, TopicStats topic, String definition, Map<String, Long> counters,
                                     int instances) {
    }

    /**
     * One consumer group.
     *
     * @param group  the group id
     * @param type   classic, consumer, streams...
     * @param state  stable, empty...
     * @param topics committed offsets and lag per topic
     * @param error  why offsets could not be read, or null
     */
    public record GroupStatus(String group, String type, String state, List<TopicLag> topics, String error) {
    }

    /**
     * A group's position on one topic.
     *
     * @param topic     the topic
     * @param committed committed offsets summed over its partitions
     * @param lag       records not consumed yet (end offset minus committed offset, summed)
     */
    public record TopicLag(String topic, long committed, long lag) {
    }

    /**
     * One replay run's ledger.
     *
     * @param runId          the record key
     * @param timeMillis     when the ledger was written
     * @param sessionsSeen   sessions the run saw, null when the ledger does not say
     * @param sessionsReplayed sessions replayed
     * @param sessionsFailed sessions that failed
     * @param ledger         the whole ledger as written
     */
    public record RunStatus(String runId, long timeMillis, Long sessionsSeen, Long sessionsReplayed,
                            Long sessionsFailed, JsonNode ledger) {
    }
}
