package dev.trafficbus.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.KafkaErrors;
import dev.trafficbus.cli.TopicState;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.status.StatusReport.GroupStatus;
import dev.trafficbus.status.StatusReport.RunStatus;
import dev.trafficbus.status.StatusReport.SubscriptionStatus;
import dev.trafficbus.status.StatusReport.TopicLag;
import dev.trafficbus.status.StatusReport.TopicStats;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Asks the brokers (admin requests and reads of the compacted topics) for everything {@link StatusReport} holds. */
public final class StatusCollector {
    private final Properties clientProperties;
    private final Duration timeout;
    private final YAMLMapper yaml = new YAMLMapper();

    /** {@code clientProperties} from {@code KafkaClientOptions.toProperties()}; {@code timeout} bounds each request. */
    public StatusCollector(Properties clientProperties, Duration timeout) {
        this.clientProperties = clientProperties;
        this.timeout = timeout;
    }

    /** Collects the whole report; keeps at most {@code maxRuns} runs. */
    public StatusReport collect(int maxRuns) {
        try (KafkaAdmin kafka = KafkaAdmin.connect(clientProperties, timeout)) {
            Admin admin = kafka.admin();
            Set<String> topics = get(admin.listTopics().names());
            if (!topics.contains(Topics.SUBSCRIPTIONS)) {
                requireVisible(admin, Topics.SUBSCRIPTIONS);
            }
            Map<String, TopicStats> stats = topicStats(kafka, topics.stream()
                    .filter(t -> t.startsWith(Topics.CAPTURE_PREFIX) || t.startsWith(Topics.SUBSCRIPTION_PREFIX)).toList());
            List<TopicStats> sources = stats.values().stream().filter(s -> s.topic().startsWith(Topics.CAPTURE_PREFIX)).toList();
            List<SubscriptionStatus> subscriptions = subscriptions(topics, stats);
            List<GroupStatus> groups = groups(admin);
            List<RunStatus> runs = topics.contains(Topics.RUNS) ? runs(maxRuns) : List.of();
            return new StatusReport(clientProperties.getProperty("bootstrap.servers"), sources, subscriptions, groups, runs);
        }
    }

    /**
     * Kafka leaves topics a principal may not describe out of the topic list, so a refused status would read as an
     * empty bus; asking for the processor's own topic by name tells "refused" from "not created yet".
     */
    private void requireVisible(Admin admin, String topic) {
        try {
            admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            KafkaErrors.throwIfRefused(e, AclOperation.DESCRIBE, topic);
        } catch (TimeoutException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted", e);
        }
    }

    private Map<String, TopicStats> topicStats(KafkaAdmin kafka, List<String> topics) {
        Map<String, TopicStats> out = new TreeMap<>();
        if (topics.isEmpty()) {
            return out;
        }
        Admin admin = kafka.admin();
        Map<String, TopicState> described = kafka.describe(topics);
        List<TopicPartition> partitions = new ArrayList<>();
        described.values().forEach(d -> {
            for (int p = 0; p < d.partitions(); p++) {
                partitions.add(new TopicPartition(d.name(), p));
            }
        });
        Map<TopicPartition, ListOffsetsResultInfo> start = offsets(admin, partitions, OffsetSpec.earliest());
        Map<TopicPartition, ListOffsetsResultInfo> end = offsets(admin, partitions, OffsetSpec.latest());
        Map<TopicPartition, ListOffsetsResultInfo> newest = offsets(admin, partitions, OffsetSpec.maxTimestamp());
        for (TopicState d : described.values()) {
            long records = 0;
            Long newestMillis = null;
            for (int p = 0; p < d.partitions(); p++) {
                TopicPartition tp = new TopicPartition(d.name(), p);
                records += Math.max(0, end.get(tp).offset() - start.get(tp).offset());
                ListOffsetsResultInfo n = newest.get(tp);
                // Max-timestamp answers -1 for an empty (or fully deleted) partition.
                if (n != null && n.offset() >= 0 && n.timestamp() >= 0 && end.get(tp).offset() > start.get(tp).offset()) {
                    newestMillis = newestMillis == null ? n.timestamp() : Math.max(newestMillis, n.timestamp());
                }
            }
            out.put(d.name(), new TopicStats(d.name(), d.partitions(), d.replicationFactor(), d.retention(), records,
                    newestMillis));
        }
        return out;
    }

    private Map<TopicPartition, ListOffsetsResultInfo> offsets(Admin admin, List<TopicPartition> partitions, OffsetSpec spec) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        return request.isEmpty() ? Map.of() : get(admin.listOffsets(request).all());
    }

    private List<SubscriptionStatus> subscriptions(Set<String> topics, Map<String, TopicStats> stats) {
        Map<String, CompactedTopicReader.Entry> definitions = topics.contains(Topics.SUBSCRIPTIONS)
                ? CompactedTopicReader.read(clientProperties, Topics.SUBSCRIPTIONS, timeout) : Map.of();
        Map<String, CompactedTopicReader.Entry> counters = topics.contains(Topics.SUBSCRIPTION_STATS)
                ? CompactedTopicReader.read(clientProperties, Topics.SUBSCRIPTION_STATS, timeout) : Map.of();
        Set<String> names = new TreeSet<>(definitions.keySet());
        topics.stream().filter(t -> t.startsWith(Topics.SUBSCRIPTION_PREFIX)).forEach(t -> names.add(t.substring(Topics.SUBSCRIPTION_PREFIX.length())));
        Map<String, Map<String, Long>> summed = new HashMap<>();
        Map<String, Integer> instances = new HashMap<>();
        for (CompactedTopicReader.Entry e : counters.values()) {
            int at = e.key().lastIndexOf('@');
            String name = at > 0 ? e.key().substring(0, at) : e.key();
            names.add(name);
            instances.merge(name, 1, Integer::sum);
            Map<String, Long> sums = summed.computeIfAbsent(name, n -> new TreeMap<>());
            addNumbers("", parse(e.value()), sums);
        }
        List<SubscriptionStatus> out = new ArrayList<>();
        for (String name : names) {
            CompactedTopicReader.Entry def = definitions.get(name);
            out.add(new SubscriptionStatus(name, stats.get(Topics.SUBSCRIPTION_PREFIX + name), def == null ? null : def.value(),
                    summed.getOrDefault(name, Map.of()), instances.getOrDefault(name, 0)));
        }
        return out;
    }

    /** Adds every numeric leaf of a counters document under its dotted path (e.g. dropped.not-matched). */
    private static void addNumbers(String prefix, JsonNode node, Map<String, Long> sums) {
        if (node == null) {
            return;
        }
        if (node.isNumber()) {
            if (!isTime(prefix)) {
                sums.merge(prefix.isEmpty() ? "value" : prefix, node.asLong(), Long::sum);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                addNumbers(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), sums);
            }
        }
    }

    /** Times next to the counters (when an instance last wrote them) are not counts; summing them means nothing. */
    private static boolean isTime(String path) {
        String leaf = path.substring(path.lastIndexOf('.') + 1);
        return leaf.equals("updated") || leaf.equals("time") || leaf.equals("timestamp") || leaf.endsWith("_at")
                || leaf.endsWith("At");
    }

    private List<GroupStatus> groups(Admin admin) {
        List<GroupListing> listings = new ArrayList<>(get(admin.listGroups().all()));
        listings.sort(Comparator.comparing(GroupListing::groupId));
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new TreeMap<>();
        Map<String, String> errors = new HashMap<>();
        Set<TopicPartition> all = new java.util.HashSet<>();
        for (GroupListing g : listings) {
            if (g.type().orElse(GroupType.UNKNOWN) == GroupType.SHARE) {
                continue; // share groups have no committed offsets to compare
            }
            try {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(g.groupId())
                        .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                Map<TopicPartition, OffsetAndMetadata> present = new HashMap<>();
                offsets.forEach((tp, om) -> {
                    if (om != null) {
                        present.put(tp, om);
                    }
                });
                committed.put(g.groupId(), present);
                all.addAll(present.keySet());
            } catch (ExecutionException | TimeoutException e) {
                KafkaErrors.throwIfRefused(e);
                errors.put(g.groupId(), e.getCause() != null ? e.getCause().getMessage() : e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        Map<TopicPartition, ListOffsetsResultInfo> end = offsets(admin, new ArrayList<>(all), OffsetSpec.latest());
        List<GroupStatus> out = new ArrayList<>();
        for (GroupListing g : listings) {
            Map<TopicPartition, OffsetAndMetadata> offsets = committed.getOrDefault(g.groupId(), Map.of());
            Map<String, long[]> perTopic = new TreeMap<>();
            offsets.forEach((tp, om) -> {
                long[] sums = perTopic.computeIfAbsent(tp.topic(), t -> new long[2]);
                sums[0] += om.offset();
                ListOffsetsResultInfo e = end.get(tp);
                sums[1] += e == null ? 0 : Math.max(0, e.offset() - om.offset());
            });
            List<TopicLag> lags = new ArrayList<>();
            perTopic.forEach((t, s) -> lags.add(new TopicLag(t, s[0], s[1])));
            out.add(new GroupStatus(g.groupId(), g.type().map(Enum::name).orElse("UNKNOWN").toLowerCase(),
                    g.groupState().map(Enum::name).orElse("UNKNOWN").toLowerCase(), lags, errors.get(g.groupId())));
        }
        return out;
    }

    private List<RunStatus> runs(int maxRuns) {
        List<RunStatus> runs = new ArrayList<>();
        for (CompactedTopicReader.Entry e : CompactedTopicReader.read(clientProperties, Topics.RUNS, timeout).values()) {
            JsonNode ledger = parse(e.value());
            JsonNode sessions = ledger == null ? null : ledger.path("sessions");
            runs.add(new RunStatus(e.key(), e.timestampMillis(), number(sessions, "seen"), number(sessions, "replayed"),
                    number(sessions, "failed"), ledger));
        }
        runs.sort(Comparator.comparingLong(RunStatus::timeMillis).reversed());
        return runs.size() > maxRuns ? List.copyOf(runs.subList(0, maxRuns)) : runs;
    }

    private static Long number(JsonNode node, String field) {
        return node != null && node.path(field).isNumber() ? node.path(field).asLong() : null;
    }

    /** JSON is YAML too; text that is neither is kept as a string node rather than failing the whole status. */
    private JsonNode parse(String text) {
        try {
            return yaml.readTree(text);
        } catch (Exception e) {
            return yaml.getNodeFactory().textNode(text);
        }
    }

    private <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            KafkaErrors.throwIfRefused(e);
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(e);
            }
            // Status only reads: whatever Kafka answers instead is worth one line, not a stack trace.
            throw new UserInputException("Kafka request to " + clientProperties.getProperty("bootstrap.servers")
                    + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private UserInputException unreachable(Exception e) {
        return KafkaAdmin.unreachable(clientProperties, timeout, e);
    }
}
