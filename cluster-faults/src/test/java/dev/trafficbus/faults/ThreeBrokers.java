package dev.trafficbus.faults;

import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real Kafka cluster of three brokers and one controller in this JVM, set up as a production cluster is: every
 * topic replicated three times, {@code min.insync.replicas} 2 (internal topics too), so acks=all survives one broker.
 * One cluster serves every test class of the JVM (those declaring {@link Shared}), closed when the last has run; a test
 * that kills a broker brings it back before the next starts.
 * <p>
 * A broker is killed without a controlled shutdown: it hands no leadership over and says nothing to the controller,
 * which fences it only when its heartbeats stop for {@link #SESSION_TIMEOUT}, as it would after a crash. (Its sockets
 * close rather than go silent, so clients notice at once instead of after a request timeout.)
 */
final class ThreeBrokers implements AutoCloseable {
    static final int BROKERS = 3;
    /** How long the controller waits for a silent broker before it fences it and elects other leaders. */
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    private static volatile ThreeBrokers shared;

    private final KafkaClusterTestKit kit;
    private final String bootstrap;

    private ThreeBrokers(KafkaClusterTestKit kit) {
        this.kit = kit;
        this.bootstrap = kit.bootstrapServers();
    }

    /**
     * Starts the JVM's cluster for the first test class (10 to 30 s) and closes it after the last; after each test,
     * brings killed brokers back ({@link #restoreAll}).
     */
    static final class Shared implements BeforeAllCallback, AfterEachCallback {
        @Override
        public void afterEach(ExtensionContext context) throws Exception {
            shared().restoreAll();
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).computeIfAbsent(ThreeBrokers.class, k -> {
                try {
                    shared = start();
                    return shared;
                } catch (Exception e) {
                    throw new IllegalStateException("the 3-broker cluster did not start", e);
                }
            }, ThreeBrokers.class);
        }
    }

    /** The cluster {@link Shared} started. */
    static synchronized ThreeBrokers shared() {
        if (shared == null) {
            throw new IllegalStateException("no cluster: declare @ExtendWith(ThreeBrokers.Shared.class)");
        }
        return shared;
    }

    @Override
    public void close() throws Exception {
        shared = null;
        kit.close();
    }

    private static ThreeBrokers start() throws Exception {
        TestKitNodes nodes = new TestKitNodes.Builder().setCombined(false)
                .setNumBrokerNodes(BROKERS).setNumControllerNodes(1).build();
        KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(nodes)
                .setConfigProp("default.replication.factor", "3")
                .setConfigProp("min.insync.replicas", "2")
                .setConfigProp("offsets.topic.replication.factor", "3")
                .setConfigProp("offsets.topic.num.partitions", "6")
                .setConfigProp("transaction.state.log.replication.factor", "3")
                .setConfigProp("transaction.state.log.min.isr", "2")
                .setConfigProp("transaction.state.log.num.partitions", "6")
                .setConfigProp("share.coordinator.state.topic.replication.factor", "3")
                .setConfigProp("share.coordinator.state.topic.min.isr", "2")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("controlled.shutdown.enable", "false")
                .setConfigProp("broker.session.timeout.ms", Long.toString(SESSION_TIMEOUT.toMillis()))
                .setConfigProp("broker.heartbeat.interval.ms", "500")
                // Record time is capture time: committed fixtures older than the 7-day default would be deleted.
                .setConfigProp("log.retention.ms", "-1")
                .build();
        try {
            kit.format();
            kit.startup();
            kit.waitForReadyBrokers();
        } catch (Exception e) {
            kit.close();
            throw e;
        }
        return new ThreeBrokers(kit);
    }

    /** Every broker's address, as the cluster started. */
    String bootstrapServers() {
        return bootstrap;
    }

    Properties clientConfig() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrap));
    }

    /** Creates topics of {@code partitions} partitions, three replicas each, at least two of them in sync for a write. */
    void createTopics(int partitions, String... topics) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(java.util.Arrays.stream(topics).map(t -> new NewTopic(t, partitions, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2", "retention.ms", "-1"))).toList()).all().get();
            // Leaders are elected a moment after creation; a kill before that would find no leader to kill.
            await("leaders of " + String.join(", ", topics), Duration.ofSeconds(30), () -> fullyReplicated(admin, topics));
        }
    }

    /** The broker that leads {@code partition} of {@code topic} now. */
    int leaderOf(String topic, int partition) throws Exception {
        try (Admin admin = admin()) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
            return d.partitions().get(partition).leader().id();
        }
    }

    /** Stops {@code brokerId} the way a crash would (no controlled shutdown, see the class comment). */
    void kill(int brokerId) {
        BrokerServer broker = kit.brokers().get(brokerId);
        broker.shutdown();
        broker.awaitShutdown();
    }

    /**
     * Starts every stopped broker again and waits until each partition of every topic has its three replicas in sync,
     * so the next test starts on a whole cluster.
     */
    void restoreAll() throws Exception {
        for (BrokerServer broker : kit.brokers().values()) {
            if (broker.isShutdown()) {
                broker.startup();
            }
        }
        try (Admin admin = admin()) {
            await("every replica in sync again", Duration.ofSeconds(90), () -> {
                Set<String> names = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions()
                        .listInternal(true)).names().get(10, TimeUnit.SECONDS);
                return fullyReplicated(admin, names.toArray(String[]::new));
            });
        }
    }

    private static boolean fullyReplicated(Admin admin, String... topics) throws Exception {
        try {
            Collection<TopicDescription> all = admin.describeTopics(List.of(topics)).allTopicNames()
                    .get(10, TimeUnit.SECONDS).values();
            for (TopicDescription d : all) {
                for (TopicPartitionInfo p : d.partitions()) {
                    if (p.leader() == null || p.isr().size() < p.replicas().size()) {
                        return false;
                    }
                }
            }
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false; // a topic still being created, or the cluster still electing: ask again
        }
    }

    /** The brokers running now. */
    Set<Integer> running() {
        Set<Integer> out = new TreeSet<>();
        kit.brokers().forEach((id, b) -> {
            if (!b.isShutdown()) {
                out.add(id);
            }
        });
        return out;
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls {@code condition} every 200 ms until it holds; fails naming {@code what} after {@code timeout}. */
    static void await(String what, Duration timeout, Condition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}
