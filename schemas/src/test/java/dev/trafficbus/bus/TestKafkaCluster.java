package dev.trafficbus.bus;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node Kafka cluster (broker and controller in one in-JVM node) for the modules' integration
 * tests, with the single-node replication settings without which consumers see nothing.
 */
public final class TestKafkaCluster implements AutoCloseable {
    private final KafkaClusterTestKit cluster;

    private TestKafkaCluster(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /** Formats, starts and waits for a new cluster (a few seconds). */
    public static TestKafkaCluster start() throws Exception {
        TestKitNodes nodes = new TestKitNodes.Builder().setCombined(true)
                .setNumBrokerNodes(1).setNumControllerNodes(1).build();
        KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(nodes)
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
                .setConfigProp("share.coordinator.state.topic.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                // Record time is capture time: with the default 7-day retention, committed pcap fixtures
                // would be deleted mid-test once they are a week old.
                .setConfigProp("log.retention.ms", "-1")
                .setConfigProp("transaction.state.log.num.partitions", "4")
                .build();
        try {
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return new TestKafkaCluster(cluster);
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** The underlying test kit, for admin clients and the like. */
    public KafkaClusterTestKit kit() {
        return cluster;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
