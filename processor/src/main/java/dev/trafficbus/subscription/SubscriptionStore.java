package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.KafkaErrors;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * Reads and writes the compacted topics the processor shares with the {@code subscribe}, {@code unsubscribe}
 * and {@code subscriptions} commands: definitions in {@code tb.subscriptions}, counters in
 * {@code tb.subscription-stats}. Creates the topics when they are missing.
 */
public final class SubscriptionStore {
    private final Properties kafka;
    private final Duration timeout;

    /** A store over the brokers of {@code kafka} (client properties, at least bootstrap.servers). */
    public SubscriptionStore(Properties kafka, Duration timeout) {
        this.kafka = kafka;
        this.timeout = timeout;
    }

    /** Creates the processor's own topics if missing (compacted ones with one partition, to keep order). */
    public void ensureTopics() {
        Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        createIfMissing(List.of(
                new NewTopic(Topics.SUBSCRIPTIONS, Optional.of(1), Optional.empty()).configs(compacted),
                new NewTopic(Topics.SUBSCRIPTION_STATS, Optional.of(1), Optional.empty()).configs(compacted),
                new NewTopic(Topics.DEADLETTER, Optional.of(1), Optional.empty())));
    }

    /** Creates subscription output topics with {@code partitions} partitions if missing. */
    public void ensureOutputTopics(Collection<String> topics, int partitions) {
        List<NewTopic> list = new ArrayList<>();
        for (String t : topics) {
            list.add(new NewTopic(t, Optional.of(partitions), Optional.empty()));
        }
        createIfMissing(list);
    }

    private void createIfMissing(List<NewTopic> topics) {
        try (Admin admin = KafkaAdmin.open(kafka, timeout)) {
            Map<String, org.apache.kafka.common.KafkaFuture<Void>> results = admin.createTopics(topics).values();
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> r : results.entrySet()) {
                try {
                    r.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    KafkaErrors.throwIfRefused(e, AclOperation.CREATE, r.getKey());
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new UserInputException("cannot create topic " + r.getKey() + ": "
                                + e.getCause().getMessage(), e);
                    }
                }
            }
        } catch (TimeoutException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while creating topics", e);
        }
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
