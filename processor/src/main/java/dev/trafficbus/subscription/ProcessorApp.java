package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaErrors;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.metrics.MetricsEndpoint;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * One processor instance: makes sure its topics exist, loads the given subscriptions into
 * {@code tb.subscriptions}, follows that topic, runs the Kafka Streams topology and publishes counters.
 */
public final class ProcessorApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessorApp.class);

    /**
     * How to run.
     *
     * @param kafka          client properties from {@code KafkaClientOptions.toProperties()}
     * @param applicationId  Kafka Streams application id (consumer group, state)
     * @param initial        subscriptions to load into {@code tb.subscriptions} at start (may be empty)
     * @param outputTopics   partitions and replication of the subscription topics this instance creates
     * @param exactlyOnce    processing.guarantee=exactly_once_v2
     * @param threads        stream threads
     * @param stateDir       state directory, or null for Kafka Streams' default
     * @param settings       session state bounds
     * @param statsInterval  how often counters go to {@code tb.subscription-stats}
     * @param timeout        how long to wait for the brokers at start
     */
    public record Config(Properties kafka, String applicationId, List<Subscription> initial, TopicSpec outputTopics,
                         boolean exactlyOnce, int threads, Path stateDir, ProcessorSettings settings,
                         Duration statsInterval, Duration timeout) {
    }

    private final Config config;
    private final ProcessorCounters counters;
    private final SubscriptionRegistry registry;
    private final SubscriptionStore store;
    private SubscriptionWatcher watcher;
    private KafkaStreams streams;
    private StatsPublisher stats;
    private ChangelogWidth widths;
    private volatile UserInputException refusal;
    private volatile Runnable onRefusal = () -> { };

    /** An instance whose counters go to {@code metrics} (null: none). */
    public ProcessorApp(Config config, MetricsEndpoint metrics) {
        this.config = config;
        this.counters = new ProcessorCounters(metrics);
        this.registry = new SubscriptionRegistry(counters);
        this.store = new SubscriptionStore(config.kafka(), config.timeout());
        if (metrics != null) {
            metrics.health(() -> streams != null && streams.state().isRunningOrRebalancing(),
                    "Kafka Streams is not running");
        }
    }

    /** Starts everything; returns once the initial subscriptions are in force and the streams are starting. */
    public ProcessorApp start() throws InterruptedException {
        int replication = store.ensureTopics(config.outputTopics());
        if (!config.initial().isEmpty()) {
            store.ensureOutputTopics(config.initial().stream().map(Subscription::topic).toList(), config.outputTopics());
            store.put(config.initial());
        }
        watcher = new SubscriptionWatcher(config.kafka(), registry, store, config.outputTopics());
        watcher.start();
        if (!watcher.awaitCaughtUp(config.timeout())) {
            throw new UserInputException("could not read " + Topics.SUBSCRIPTIONS + " within "
                    + config.timeout().toSeconds() + " s");
        }
        widths = new ChangelogWidth(config.kafka(), config.applicationId()).start();
        streams = SubscriptionStore.client(() -> new KafkaStreams(
                SubscriptionTopology.build(registry, counters, config.settings()), streamsProps(replication)));
        streams.setUncaughtExceptionHandler(e -> {
            UserInputException refused = KafkaErrors.refusal(e);
            if (refused != null) {
                // A missing ACL fails every replaced thread the same way: stop, and let the command say why.
                refusal = refused;
                onRefusal.run();
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
            if (ChangelogWidth.isWidthRefusal(e)) {
                // A wider capture topic came before its changelog partitions: add them, and the new thread joins.
                LOG.warn("a wider capture topic appeared; widening the changelog topics to {} partitions and"
                        + " restarting the stream thread", widths.check());
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            LOG.error("stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        stats = new StatsPublisher(counters, store, instanceId(), config.statsInterval());
        return this;
    }

    private Properties streamsProps(int replication) {
        Properties p = new Properties();
        p.putAll(config.kafka());
        // Changelogs as replicated as the processor's other topics: a broker lost must not lose session state.
        p.putIfAbsent(StreamsConfig.REPLICATION_FACTOR_CONFIG, Integer.toString(replication));
        p.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        p.setProperty(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(config.threads()));
        if (config.exactlyOnce()) {
            p.setProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        }
        if (config.stateDir() != null) {
            p.setProperty(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        }
        // New capture topics are found by metadata refresh; the default 5 minutes is too slow for a new source.
        p.putIfAbsent("metadata.max.age.ms", "10000");
        // Decisions depend only on the order within a partition (a session lives in one partition of one capture
        // topic), never on timestamp order across the capture topics a task reads, so the per-record check that
        // waits for it is skipped.
        p.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, Long.toString(StreamsConfig.MAX_TASK_IDLE_MS_DISABLED));
        // The forwarder's publisher batching: large compressed batches cost far less per record than Streams'
        // defaults (16 KiB, uncompressed, 100 ms). Any of these given by the user wins.
        p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        return p;
    }

    private String instanceId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "host";
        }
        return config.applicationId() + "/" + host + "/" + ManagementFactory.getRuntimeMXBean().getPid() + "/"
                + System.currentTimeMillis();
    }

    /** Runs {@code action} (once, on a Streams thread) when Kafka refuses the streams access; call before {@link #start()}. */
    public ProcessorApp onRefusal(Runnable action) {
        this.onRefusal = action;
        return this;
    }

    /** Kafka's refusal that stopped the streams (principal, operation, resource), or null. */
    public UserInputException refusal() {
        return refusal;
    }

    /** True once the streams run (not rebalancing). */
    public boolean running() {
        return streams != null && streams.state() == KafkaStreams.State.RUNNING;
    }

    /** The Kafka Streams state, or null before start. */
    public KafkaStreams.State state() {
        return streams == null ? null : streams.state();
    }

    public ProcessorCounters counters() {
        return counters;
    }

    public SubscriptionRegistry registry() {
        return registry;
    }

    /** Publishes the counters now (also done periodically). */
    public void publishStats() {
        if (stats != null) {
            stats.publish();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (streams != null) {
            streams.close(Duration.ofSeconds(30));
        }
        if (stats != null) {
            stats.close();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (widths != null) {
            widths.close();
        }
    }
}
