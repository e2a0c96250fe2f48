package dev.trafficbus.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.cli.CommandOutput;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * WebSocket sessions captured from python3-websockets' client and server (testdata/websocket-sessions.pcap)
 * replayed through a real broker into a fresh python3-websockets server: every message arrives there once, the
 * frames are counted by opcode, the answers are judged by framing, and messages that got no answer keep their
 * captured spacing.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WebSocketReplayTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static TestKafkaCluster kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafkaCluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** One message as the server logged it. */
    record Received(String path, String kind, long bytes, String sha, double seconds) {
        String what() {
            return path + " " + kind + " " + bytes + " " + sha;
        }

        static Received parse(String line) {
            String[] f = line.trim().split(" ");
            return new Received(f[0], f[1], Long.parseLong(f[2]), f[3], Double.parseDouble(f[4]));
        }
    }

    @Test
    void everyCapturedMessageArrivesOnceAtARealServerWithItsTiming(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder(PYTHON, "-c", "import websockets").start().waitFor() == 0,
                "needs python3-websockets (Debian package) for " + PYTHON);
        List<String> expectedLines = Files.readAllLines(CaptureFixture.testdata().resolve("websocket-sessions.expected"));
        int port = expectedLines.stream().filter(l -> l.startsWith("port ")).map(l -> Integer.parseInt(l.substring(5)))
                .findFirst().orElseThrow();
        List<Received> captured = expectedLines.stream().filter(l -> l.startsWith("/")).map(Received::parse).toList();

        String topic = "tb.capture.ws";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        CaptureFixture.packetsOf("websocket-sessions", port).publish(kafka.bootstrapServers(), topic, "ws1", 1);

        Path log = dir.resolve("server.log");
        Process server = new ProcessBuilder(PYTHON, CaptureFixture.testdata().resolve("websocket-server.py").toString(),
                "0", log.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            int serverPort = Integer.parseInt(new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine().trim());
            Path report = dir.resolve("run.json");
            CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", topic, "--target",
                    "127.0.0.1:" + serverPort, "--bootstrap-servers", kafka.bootstrapServers(), "--until-end",
                    "--report", report.toString());
            assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
            assertThat(o.out()).startsWith("replayed 3 of 3 sessions (0 incomplete, 0 failed, 0 not replayed)");

            List<Received> arrived = Files.readAllLines(log).stream().map(Received::parse).toList();
            assertThat(count(arrived)).as("every message once, byte for byte").isEqualTo(count(captured));

            // The /sink messages got no answer: only their capture times pace them. Sent as one message they would
            // arrive at once (span 0); paced, each is due at its capture time, and only the first few can be late
            // together on a loaded machine (its upgrade answer waited for), so most of the span remains.
            assertThat(span(arrived, "/sink")).as("spacing of the unanswered messages")
                    .isGreaterThan(0.4 * span(captured, "/sink"));

            JsonNode json = new ObjectMapper().readTree(report.toFile());
            JsonNode answers = json.path("answers");
            assertThat(answers.path("silence").asLong()).as(answers.toString()).isZero();
            assertThat(answers.path("timeout").asLong()).as(answers.toString()).isZero();
            assertThat(answers.path("framing").asLong()).as(answers.toString()).isPositive();
            JsonNode ws = json.path("websocket");
            assertThat(ws.path("sessions").asLong()).as(ws.toString()).isEqualTo(3);
            JsonNode sent = ws.path("sent");
            // As tshark decodes the capture: 5 + 8 text messages and the first fragment of one more; its other 2
            // fragments and the empty final one python3-websockets ends it with; 2 binary; 1 ping; 3 closes
            assertThat(sent.path("text").asLong()).as(sent.toString()).isEqualTo(14);
            assertThat(sent.path("continuation").asLong()).as(sent.toString()).isEqualTo(3);
            assertThat(sent.path("binary").asLong()).as(sent.toString()).isEqualTo(2);
            assertThat(sent.path("ping").asLong()).as(sent.toString()).isEqualTo(1);
            assertThat(sent.path("close").asLong()).as(sent.toString()).isEqualTo(3);
            JsonNode received = ws.path("received");
            assertThat(received.path("text").asLong()).as(received.toString()).isEqualTo(6);
            assertThat(received.path("binary").asLong()).as(received.toString()).isEqualTo(2);
            assertThat(received.path("pong").asLong()).as(received.toString()).isEqualTo(1);
            assertThat(received.path("close").asLong()).as(received.toString()).isEqualTo(3);
            assertThat(o.out()).contains("websocket: 3 sessions");
        } finally {
            server.destroy();
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static Map<String, Long> count(List<Received> messages) {
        return new TreeMap<>(messages.stream().collect(Collectors.groupingBy(Received::what, Collectors.counting())));
    }

    private static double span(List<Received> messages, String path) {
        List<Double> t = messages.stream().filter(m -> m.path().equals(path)).map(Received::seconds).toList();
        return t.get(t.size() - 1) - t.get(0);
    }
}
