package dev.trafficbus.subscription;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicSpec;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Capture topics of different partition counts read by one processor, the wider one appearing while it runs: Kafka
 * Streams sizes the processor's changelog topics by the widest capture topic, and refused to go on ("internal topic
 * ... has invalid partitions") when a wider one came.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CapturePartitionCountsTest {
    private static TestKafkaCluster kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = TestKafkaCluster.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Properties clientProps() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", kafka.bootstrapServers());
        return p;
    }

    private static ForwardSummary forward(String source, int partitions) {
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(ProcessorBrokerTest.PCAP, Set.of(8080), source,
                clientProps(), false).withTopicSettings(TopicSpec.of(null, partitions)));
        assertThat(s.publishErrors()).isZero();
        return s;
    }

    private static Map<String, Integer> sessionsOf(String topic) {
        return BusRecords.sessions(BusRecords.readAll(kafka.bootstrapServers(), topic));
    }

    private static int partitionsOf(String topic) {
        try (KafkaAdmin admin = KafkaAdmin.connect(clientProps(), Duration.ofSeconds(10))) {
            return admin.describe(topic).partitions();
        }
    }

    @Test
    void aWiderCaptureTopicAppearingWhileRunningIsReadToo(@TempDir Path dir) throws Exception {
        forward("three", 3);
        assertThat(partitionsOf("tb.capture.three")).isEqualTo(3);
        List<Subscription> initial = SubscriptionParser.parseAll("""
                - name: mixed
                  sources: [three, six]
                - name: mixed-http
                  sources: [three, six]
                  filter:
                    http: {allow-url: ['^/s1[1-6]/']}
                """);
        try (ProcessorApp app = ProcessorBrokerTest.startAppOn(kafka, "it-widths", dir.resolve("state"), initial,
                null, false)) {
            ProcessorBrokerTest.await("16 sessions of the 3-partition topic", Duration.ofSeconds(90),
                    () -> sessionsOf("tb.sub.mixed").size() == 16 && sessionsOf("tb.sub.mixed-http").size() == 6);

            forward("six", 6);
            assertThat(partitionsOf("tb.capture.six")).isEqualTo(6);
            ProcessorBrokerTest.await("16 more sessions from the 6-partition topic", Duration.ofSeconds(120),
                    () -> sessionsOf("tb.sub.mixed").size() == 32 && sessionsOf("tb.sub.mixed-http").size() == 12);
            assertThat(app.state()).isEqualTo(KafkaStreams.State.RUNNING);
            assertThat(app.counters().of("mixed").sessionsIn()).isEqualTo(32);
            assertThat(partitionsOf("it-widths-" + SubscriptionProcessor.SESSION_STORE + "-changelog")).isEqualTo(6);
        }
    }
}
