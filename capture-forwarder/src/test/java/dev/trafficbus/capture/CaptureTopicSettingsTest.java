package dev.trafficbus.capture;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.TopicState;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** forward --partitions / --replication-factor / --retention on a real single-node KRaft broker. */
class CaptureTopicSettingsTest {
    static final Path HTTP_SESSIONS = Path.of("../testdata/http-sessions.pcap");
    /** Frames of http-sessions.pcap (all TCP of port 8080) whose IP packet is over 928 bytes: tshark -e ip.len. */
    static final long OVERSIZED_IN_HTTP_SESSIONS = 14;
    private static TestKafkaCluster cluster;

    @BeforeAll
    static void startBroker() throws Exception {
        ForwardMain.quietClientLogs();
        cluster = TestKafkaCluster.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static CommandOutput forward(String source, String... extra) {
        String[] base = {"--pcap", Fixtures.path(Fixtures.ETHERNET.file()).toString(), "--port", "8080",
                "--source", source, "--bootstrap-servers", cluster.bootstrapServers()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CommandOutput.run(new ForwardCommand(), args);
    }

    private static TopicState describe(String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        try (KafkaAdmin admin = KafkaAdmin.connect(p, Duration.ofSeconds(10))) {
            return admin.describe(topic);
        }
    }

    @Test
    void aNewCaptureTopicGetsTheAskedPartitionsReplicationAndRetention() {
        CommandOutput o = forward("settings", "--partitions", "3", "--replication-factor", "1", "--retention", "7d");
        assertThat(o.exitCode()).as(o.err()).isZero();
        TopicState t = describe("tb.capture.settings");
        assertThat(t.partitions()).isEqualTo(3);
        assertThat(t.replicationFactor()).isEqualTo(1);
        assertThat(t.value(TopicConfig.RETENTION_MS_CONFIG)).isEqualTo("604800000");
        assertThat(t.retention()).isEqualTo("7d");

        CommandOutput forever = forward("forever", "--retention", "-1");
        assertThat(forever.exitCode()).as(forever.err()).isZero();
        TopicState f = describe("tb.capture.forever");
        assertThat(f.retention()).isEqualTo("forever");
        // Defaults: 6 partitions, replication min(3, brokers) = 1 on one broker.
        assertThat(f.partitions()).isEqualTo(6);
        assertThat(f.replicationFactor()).isEqualTo(1);
    }

    @Test
    void anExistingTopicWithOtherSettingsIsKeptAndSaidSo() {
        assertThat(forward("kept", "--partitions", "2").exitCode()).isZero();
        String brokerDefault = describe("tb.capture.kept").retention();
        CommandOutput again = forward("kept", "--partitions", "4", "--retention", "1d");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err()).contains("topic tb.capture.kept exists with 2 partitions, not 4, retention " + brokerDefault + ", not 1d;"
                + " its settings are kept");
        assertThat(describe("tb.capture.kept").partitions()).isEqualTo(2);
        // Not asked, not compared: no line.
        CommandOutput plain = forward("kept");
        assertThat(plain.exitCode()).isZero();
        assertThat(plain.err()).doesNotContain("exists with");
    }

    @Test
    void moreReplicasThanBrokersIsAUserErrorNamingTheFix() {
        CommandOutput o = forward("toomany", "--replication-factor", "3");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("cannot create topic tb.capture.toomany with replication factor 3: the cluster at "
                + cluster.bootstrapServers() + " has 1 broker(s); give --replication-factor at most 1");
        assertThat(o.hasStackTrace()).isFalse();
        assertThat(describe("tb.capture.toomany")).isNull();
    }

    @Test
    void aPacketLargerThanTheTopicTakesIsCountedAloneAndItsNeighboursArePublished() throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        try (KafkaAdmin admin = KafkaAdmin.connect(p, Duration.ofSeconds(10))) {
            admin.ensure(TopicSpec.of("tb.capture.small", 6).with(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "2000"), 6);
        }
        // Limit 2000 - 1024 bytes of framing: IP packets over 928 bytes cannot be published even alone.
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(HTTP_SESSIONS, Set.of(8080), "small", p, false));
        assertThat(s.publishErrors()).isZero();
        assertThat(s.skippedByReason()).containsEntry("oversized", OVERSIZED_IN_HTTP_SESSIONS);
        assertThat(s.packetsRead()).isEqualTo(s.packetsPublished() + s.skippedByReason().values().stream()
                .mapToLong(Long::longValue).sum());
        assertThat(s.packetsPublished()).isEqualTo(210 - OVERSIZED_IN_HTTP_SESSIONS);
        assertThat(PcapForwarderKafkaTest.readAll(cluster.bootstrapServers(), "tb.capture.small")).hasSize((int) s.recordsPublished());
    }

    @Test
    void badSettingsAreRefusedNamingTheOption() {
        CommandOutput zero = forward("bad", "--partitions", "0");
        assertThat(zero.exitCode()).isEqualTo(2);
        assertThat(zero.err()).contains("--partitions 0 must be at least 1");
        CommandOutput retention = forward("bad", "--retention", "soon");
        assertThat(retention.exitCode()).isEqualTo(2);
        assertThat(retention.err()).contains("'soon' is not a duration");
    }
}
