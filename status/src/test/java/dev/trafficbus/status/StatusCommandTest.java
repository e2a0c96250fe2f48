package dev.trafficbus.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.cli.CommandOutput;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class StatusCommandTest {
    private static final long T0 = 1_790_000_000_000L; // 2026-09-21T...Z, a fixed time so the table shows a known value
    private static TestKafkaCluster kafka;

    @BeforeAll
    static void publish() throws Exception {
        kafka = TestKafkaCluster.start();
        Properties admin = new Properties();
        admin.put("bootstrap.servers", kafka.bootstrapServers());
        try (Admin a = Admin.create(admin)) {
            Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
            a.createTopics(List.of(new NewTopic("tb.capture.web1", 3, (short) 1).configs(Map.of(TopicConfig.RETENTION_MS_CONFIG,
                            Long.toString(7 * 86_400_000L))), new NewTopic("tb.capture.db1", 1, (short) 1),
                    new NewTopic("tb.sub.team-a", 2, (short) 1),
                    new NewTopic("tb.subscriptions", 1, (short) 1).configs(compacted),
                    new NewTopic("tb.subscription-stats", 1, (short) 1).configs(compacted),
                    new NewTopic("tb.runs", 1, (short) 1).configs(compacted),
                    new NewTopic("unrelated", 1, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            // 5 records on partition 0, 1 on partition 2 of web1; the newest has T0 + 4 s.
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>("tb.capture.web1", 0, T0 + i * 1000L, "flow", "packet" + i)).get();
            }
            producer.send(new ProducerRecord<>("tb.capture.web1", 2, T0 - 5000, "flow2", "packet")).get();
            producer.send(new ProducerRecord<>("tb.sub.team-a", 1, T0 + 2000, "flow", "packet")).get();
            producer.send(new ProducerRecord<>("tb.sub.team-a", 1, T0 + 3000, "flow", "packet")).get();
            producer.send(new ProducerRecord<>("tb.subscriptions", "team-a", "name: team-a\nsources: [web1]\nsample: 0.5\n")).get();
            producer.send(new ProducerRecord<>("tb.subscriptions", "gone", "name: gone\nsources: [web1]\n")).get();
            producer.send(new ProducerRecord<>("tb.subscriptions", "gone", null)).get();
            producer.send(new ProducerRecord<>("tb.subscription-stats", "team-a@host1",
                    "{\"subscription\": \"team-a\", \"instance\": \"host1\", \"updated\": 1790000000000, \"packets_in\": 10, "
                            + "\"records_out\": 4, \"sessions_dropped\": {\"not-matched\": 3}}")).get();
            producer.send(new ProducerRecord<>("tb.subscription-stats", "team-a@host2", "{\"subscription\": \"team-a\", \"instance\": \"host2\", \"updated\": 1790000001000, \"packets_in\": 5, \"records_out\": 1}")).get();
            producer.send(new ProducerRecord<>("tb.runs", null, T0, "run-1",
                    "{\"topic\":\"tb.capture.web1\",\"sessions\":{\"seen\":7,\"replayed\":6,\"failed\":1}}")).get();
            producer.send(new ProducerRecord<>("tb.runs", null, T0 + 60_000, "run-2",
                    "{\"topic\":\"tb.capture.web1\",\"sessions\":{\"seen\":9,\"replayed\":9,\"failed\":0}}")).get();
        }
        try (Admin a = Admin.create(admin)) {
            // A replayer group that has consumed 2 of the 5 records of partition 0 and everything of partition 2.
            a.alterConsumerGroupOffsets("replayers", Map.of(new TopicPartition("tb.capture.web1", 0), new OffsetAndMetadata(2),
                    new TopicPartition("tb.capture.web1", 2), new OffsetAndMetadata(1))).all().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void tablesShowSourcesSubscriptionsGroupLagAndRuns() {
        CommandOutput r = CommandOutput.run(new StatusCommand(), "--bootstrap-servers", kafka.bootstrapServers());
        assertThat(r.exitCode()).as(r.err()).isZero();
        String out = r.out();
        assertThat(out).contains("partitions").contains("replication").contains("retention");
        // partitions, replication, retention, records, newest record
        assertThat(row(out, "tb.capture.web1")).containsSubsequence("3", "1", "7d", "6", "2026-09-21 14:13:24Z");
        assertThat(row(out, "tb.capture.db1")).containsSubsequence("1", "0", "-");
        assertThat(out).doesNotContain("unrelated");
        assertThat(row(out, "team-a")).containsSubsequence("tb.sub.team-a", "2", "2026-09-21 14:13:23Z", "2", "packets_in=15")
                .contains("packets_in=15").contains("records_out=5")
                .contains("sessions_dropped.not-matched=3").doesNotContain("updated").contains("name: team-a sources: [web1]");
        assertThat(out).doesNotContain("gone");
        assertThat(row(out, "replayers")).containsSubsequence("tb.capture.web1", "3", "3");
        assertThat(row(out, "run-2")).containsSubsequence("9", "9", "0");
        assertThat(row(out, "run-1")).containsSubsequence("7", "6", "1");
        assertThat(out.indexOf("run-2")).as("newest run first").isLessThan(out.indexOf("run-1"));
    }

    @Test
    void jsonHoldsTheSameNumbers() throws Exception {
        CommandOutput r = CommandOutput.run(new StatusCommand(), "--bootstrap-servers", kafka.bootstrapServers(), "--json", "--runs", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode doc = new ObjectMapper().readTree(r.out());
        JsonNode web1 = find(doc.path("sources"), "topic", "tb.capture.web1");
        assertThat(web1.path("records").asLong()).isEqualTo(6);
        assertThat(web1.path("partitions").asInt()).isEqualTo(3);
        assertThat(web1.path("replicationFactor").asInt()).isEqualTo(1);
        assertThat(web1.path("retention").asText()).isEqualTo("7d");
        assertThat(web1.path("newestMillis").asLong()).isEqualTo(T0 + 4000);
        JsonNode teamA = find(doc.path("subscriptions"), "name", "team-a");
        assertThat(teamA.path("topic").path("records").asLong()).isEqualTo(2);
        assertThat(teamA.path("counters").path("packets_in").asLong()).isEqualTo(15);
        assertThat(teamA.path("counters").has("updated")).as("a time is not summed as a counter").isFalse();
        assertThat(teamA.path("instances").asInt()).isEqualTo(2);
        JsonNode group = find(doc.path("groups"), "group", "replayers");
        assertThat(group.path("topics").get(0).path("lag").asLong()).isEqualTo(3);
        assertThat(group.path("topics").get(0).path("committed").asLong()).isEqualTo(3);
        assertThat(doc.path("runs")).hasSize(1);
        assertThat(doc.path("runs").get(0).path("runId").asText()).isEqualTo("run-2");
        assertThat(doc.path("runs").get(0).path("ledger").path("topic").asText()).isEqualTo("tb.capture.web1");
    }

    @Test
    void anUnreachableBrokerIsOneLineExitTwo() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        CommandOutput r = CommandOutput.run(new StatusCommand(), "--bootstrap-servers", "127.0.0.1:" + closedPort, "--timeout", "2");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.hasStackTrace()).isFalse();
        assertThat(r.err()).contains("no Kafka broker answered at 127.0.0.1:" + closedPort).contains("--bootstrap-servers");
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (n.path(field).asText().equals(value)) {
                return n;
            }
        }
        throw new AssertionError("no " + field + "=" + value + " in " + array);
    }

    private static String row(String text, String first) {
        return text.lines().filter(l -> l.stripLeading().startsWith(first + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row '" + first + "' in:\n" + text));
    }
}
