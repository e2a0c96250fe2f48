package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.TopicSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Follows {@code tb.subscriptions} from its beginning on a thread of its own and applies every change to the
 * {@link SubscriptionRegistry}: a definition adds or replaces (after its output topic exists), a tombstone
 * removes. Every instance reads the whole topic (no group), so all instances apply the same subscriptions.
 * A plain consumer rather than a global store: the registry must be told of each change, which a global
 * store's restore path skips.
 */
final class SubscriptionWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionWatcher.class);

    private final KafkaConsumer<String, String> consumer;
    private final SubscriptionRegistry registry;
    private final SubscriptionStore store;
    private final TopicSpec outputTopics;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final LongAdder invalid = new LongAdder();
    private final Thread thread;
    private volatile boolean stop;

    SubscriptionWatcher(Properties kafka, SubscriptionRegistry registry, SubscriptionStore store, TopicSpec outputTopics) {
        Properties p = new Properties();
        p.putAll(kafka);
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        this.consumer = SubscriptionStore.client(() -> new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer()));
        this.registry = registry;
        this.store = store;
        this.outputTopics = outputTopics;
        this.thread = new Thread(this::run, "trafficbus-subscription-watcher");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Waits until everything in the topic at start has been applied; false on timeout. */
    boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stored definitions that could not be parsed (logged and skipped). */
    long invalidDefinitions() {
        return invalid.sum();
    }

    private void run() {
        try {
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(Topics.SUBSCRIPTIONS, Duration.ofSeconds(30))
                    .forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            while (!stop) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    apply(r.key(), r.value());
                }
                if (caughtUp.getCount() > 0 && SubscriptionStore.caughtUp(consumer, end)) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            if (!stop) {
                LOG.error("subscription watcher stopped unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("subscription watcher failed; subscription changes are no longer applied", e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void apply(String name, String definition) {
        if (name == null) {
            invalid.increment();
            return;
        }
        if (definition == null) {
            if (registry.remove(name)) {
                LOG.info("subscription {} removed", name);
            }
            return;
        }
        Subscription s;
        try {
            s = SubscriptionParser.parseOne(definition);
        } catch (IllegalArgumentException e) {
            invalid.increment();
            LOG.warn("skipping stored subscription {}: {}", name, e.getMessage());
            return;
        }
        if (!s.name().equals(name)) {
            invalid.increment();
            LOG.warn("skipping stored subscription under key {}: it is named {}", name, s.name());
            return;
        }
        try {
            store.ensureOutputTopics(List.of(s.topic()), outputTopics);
        } catch (RuntimeException e) {
            LOG.error("subscription {} not applied: cannot create {}: {}", name, s.topic(), e.getMessage());
            return;
        }
        registry.put(s);
        LOG.info("subscription {} in force: {} -> {}", name, s.sources(), s.topic());
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        consumer.wakeup();
        thread.join(10_000);
    }
}
