package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiConsumer;

/**
 * Reads and writes the compacted topics the processor shares with the {@code subscribe}, {@code unsubscribe}
 * and {@code subscriptions} commands: definitions in {@code tb.subscriptions}, counters in
 * {@code tb.subscription-stats}. Creates the topics when they are missing.
 */
public final class SubscriptionStore {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionStore.class);
    private final Properties kafka;
    private final Duration timeout;

    /** A store over the brokers of {@code kafka} (client properties, at least bootstrap.servers). */
    public SubscriptionStore(Properties kafka, Duration timeout) {
        this.kafka = kafka;
        this.timeout = timeout;
    }

    /** Creates the processor's own topics if missing (compacted ones with one partition, to keep order). */
    public void ensureTopics() {
        ensureTopics(TopicSpec.of(null, 0));
    }

    /**
     * The same with the replication of {@code settings} (its partitions are not used: these topics have one);
     * returns the replication factor they were asked with, for the topics Kafka Streams creates.
     */
    public int ensureTopics(TopicSpec settings) {
        String compact = TopicConfig.CLEANUP_POLICY_COMPACT;
        TopicSpec one = new TopicSpec(null, 1, settings.replicationFactor(), Map.of());
        return createIfMissing(List.of(
                one.named(Topics.SUBSCRIPTIONS).with(TopicConfig.CLEANUP_POLICY_CONFIG, compact),
                one.named(Topics.SUBSCRIPTION_STATS).with(TopicConfig.CLEANUP_POLICY_CONFIG, compact),
                one.named(Topics.DEADLETTER)));
    }

    /** Creates subscription output topics with the partitions and replication of {@code settings} if missing. */
    public void ensureOutputTopics(Collection<String> topics, TopicSpec settings) {
        List<TopicSpec> list = new ArrayList<>();
        for (String t : topics) {
            list.add(settings.named(t));
        }
        createIfMissing(list);
    }

    /** Creates what is missing; returns the replication factor of the last spec on this cluster. */
    private int createIfMissing(List<TopicSpec> topics) {
        int replication = 0;
        try (KafkaAdmin admin = KafkaAdmin.connect(kafka, timeout)) {
            for (TopicSpec spec : topics) {
                String kept = admin.ensure(spec, TopicOptions.DEFAULT_PARTITIONS).keptLine(spec);
                if (kept != null) {
                    LOG.warn(kept);
                }
                replication = admin.replication(spec);
            }
        }
        return replication;
    }

    /** Writes (adds or replaces) subscriptions. */
    public void put(List<Subscription> subscriptions) {
        try (KafkaProducer<String, String> p = producer()) {
            for (Subscription s : subscriptions) {
                p.send(new ProducerRecord<>(Topics.SUBSCRIPTIONS, s.name(), s.definition()));
            }
            p.flush();
        }
    }

    /** Writes the tombstone that removes subscription {@code name}. */
    public void remove(String name) {
        try (KafkaProducer<String, String> p = producer()) {
            p.send(new ProducerRecord<>(Topics.SUBSCRIPTIONS, name, null));
            p.flush();
        }
    }

    /** Writes counters under {@code key}. */
    void putStats(KafkaProducer<String, String> p, String key, String json) {
        p.send(new ProducerRecord<>(Topics.SUBSCRIPTION_STATS, key, json));
    }

    KafkaProducer<String, String> producer() {
        Properties p = clientProps();
        p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
        p.setProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeout.toMillis()));
        return client(() -> new KafkaProducer<>(p, new StringSerializer(), new StringSerializer()));
    }

    /** The current definitions by name (tombstoned ones left out). */
    public Map<String, String> definitions() {
        Map<String, String> out = new LinkedHashMap<>();
        readAll(Topics.SUBSCRIPTIONS, (k, v) -> {
            if (v == null) {
                out.remove(k);
            } else {
                out.put(k, v);
            }
        });
        return out;
    }

    /** The latest counters JSON by {@code subscription@instance} key. */
    public Map<String, String> stats() {
        Map<String, String> out = new LinkedHashMap<>();
        readAll(Topics.SUBSCRIPTION_STATS, (k, v) -> {
            if (v == null) {
                out.remove(k);
            } else {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Reads a topic from its beginning to its end as of now. */
    private void readAll(String topic, BiConsumer<String, String> sink) {
        Properties p = clientProps();
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // Reading must not create: a broker's auto-created topic would be a plain (not compacted) one.
        p.setProperty(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (KafkaConsumer<String, String> c = client(() -> new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer()))) {
            List<TopicPartition> parts = new ArrayList<>();
            var infos = c.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return;
            }
            infos.forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!caughtUp(c, end)) {
                if (System.nanoTime() > deadline) {
                    throw new UserInputException("could not read " + topic + " to its end within "
                            + timeout.toSeconds() + " s");
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    sink.accept(r.key(), r.value());
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw unreachable(e);
        }
    }

    static boolean caughtUp(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Builds a Kafka client; settings it refuses (from --kafka-property/--kafka-config) are a user error. */
    static <T> T client(java.util.function.Supplier<T> factory) {
        try {
            return factory.get();
        } catch (org.apache.kafka.common.KafkaException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UserInputException("Kafka client settings refused: " + cause.getMessage(), e);
        }
    }

    private Properties clientProps() {
        Properties p = new Properties();
        p.putAll(kafka);
        p.putIfAbsent("default.api.timeout.ms", Long.toString(timeout.toMillis()));
        return p;
    }

    private UserInputException unreachable(Exception e) {
        return KafkaAdmin.unreachable(kafka, timeout, e);
    }
}
