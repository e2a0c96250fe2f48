package dev.trafficbus.replay.tcp;

import dev.trafficbus.replay.CaptureFixture;
import dev.trafficbus.replay.LocalServers;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2, gRPC and WebSocket on the tcp engine, as on the socket engine: captures made with real clients
 * (testdata: nghttp and h2load against nginx with prior-knowledge h2c; python3-grpcio's client and server;
 * python3-websockets' client and server) replayed as raw packets into a real nginx with http2, a real python3-grpcio
 * server and a real python3-websockets server in the test namespace, their answers relayed with payload by the real
 * intercept, so each answer ends by its framing.
 */
@Timeout(180)
class TcpProtocolsTest extends TcpNetTest {
    private static final int PAYLOAD_INTERCEPT_PORT = 36531;
    private static final int H2_PORT = 8080;
    private static final int WS_PORT = 8081;
    private static final int GRPC_PORT = 8082;
    private static final String PYTHON = "/usr/bin/python3";

    @BeforeAll
    void startPayloadIntercept() throws Exception {
        net.startPayloadIntercept(PAYLOAD_INTERCEPT_PORT,
                "tcp and (src port " + H2_PORT + " or src port " + WS_PORT + " or src port " + GRPC_PORT + ")");
    }

    @Test
    void nghttpAndH2loadSessionsReplayEveryStreamOnceJudgedByFraming() throws Exception {
        CaptureFixture.PathCounts expected = CaptureFixture.pathCounts("h2c-nginx");
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic,
                PcapFixture.read(CaptureFixture.testdata().resolve("h2c-nginx.pcap"), expected.port()), 0);
        Path prefix = startH2Nginx();

        ReplaySummary s = replay(topic, H2_PORT, 5);

        // nghttp's two connections (several paths; the POST with a body), h2load's two (10 streams at once)
        assertThat(s.sessionsSeen()).as(s.summaryLine()).isEqualTo(4);
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(4);
        assertThat(s.messagesAnswered()).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(s.answersJudged("timeout")).isZero();
        assertThat(s.problemsByReason()).as(s.summaryLine()).isEmpty();
        assertThat(CaptureFixture.countLines(prefix.resolve("logs/access.log"), l -> l.split(" ")[1])).isEqualTo(expected.paths());
        assertThat(Files.readAllLines(prefix.resolve("logs/access.log")))
                .as("every request over HTTP/2, from the client range").allMatch(l -> l.matches(".* HTTP/2\\.0 10\\.99\\.[0-9.]+"));
    }

    @Test
    void grpcCallsReachAPythonServerOnceEachJudgedByFraming() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder(PYTHON, "-c", "import grpc").start().waitFor() == 0,
                "needs python3-grpcio (Debian package) for " + PYTHON);
        CaptureFixture.PathCounts expected = CaptureFixture.pathCounts("grpc-calls");
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic,
                PcapFixture.read(CaptureFixture.testdata().resolve("grpc-calls.pcap"), expected.port()), 0);
        net.startServer("grpc-server", GRPC_PORT, List.of(PYTHON,
                CaptureFixture.testdata().resolve("grpc-greeter.py").toString(), "serve", Integer.toString(GRPC_PORT),
                TcpTestNet.TEST_IP));

        ReplaySummary s = replay(topic, GRPC_PORT, 9);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(s.sessionsSeen());
        assertThat(s.messagesAnswered()).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.problemsByReason()).as(s.summaryLine()).isEmpty();
        assertThat(CaptureFixture.countLines(net.dir.resolve("grpc-server.out"), l -> l.startsWith("call ") ? l.split(" ")[1] : null))
                .isEqualTo(expected.paths());
    }

    @Test
    void webSocketSessionsDeliverEveryMessageOnceJudgedByFraming() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder(PYTHON, "-c", "import websockets").start().waitFor() == 0,
                "needs python3-websockets (Debian package) for " + PYTHON);
        List<String> lines = Files.readAllLines(CaptureFixture.testdata().resolve("websocket-sessions.expected"));
        int port = lines.stream().filter(l -> l.startsWith("port ")).map(l -> Integer.parseInt(l.substring(5)))
                .findFirst().orElseThrow();
        Map<String, Long> captured = messages(lines.stream().filter(l -> l.startsWith("/")).toList());
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic,
                PcapFixture.read(CaptureFixture.testdata().resolve("websocket-sessions.pcap"), port), 0);
        Path log = net.dir.resolve("ws-server.log");
        net.startServer("ws-server", WS_PORT, List.of(PYTHON,
                CaptureFixture.testdata().resolve("websocket-server.py").toString(), Integer.toString(WS_PORT),
                log.toString(), TcpTestNet.TEST_IP));

        ReplaySummary s = replay(topic, WS_PORT, 7);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(3);
        assertThat(s.sessionsFailed()).isZero();
        assertThat(s.answersJudged("silence")).as(s.summaryLine()).isZero();
        assertThat(s.answersJudged("timeout")).as(s.summaryLine()).isZero();
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isPositive();
        assertThat(s.summaryLine()).contains("websocket: 3 sessions");
        assertThat(messages(Files.readAllLines(log))).as("every message once, byte for byte").isEqualTo(captured);
    }

    /** nginx with http2 on a plain port (prior knowledge) in the test namespace, logging method, path, protocol. */
    private Path startH2Nginx() throws Exception {
        Path prefix = net.dir.resolve("nginx-h2");
        Files.createDirectories(prefix.resolve("html/static"));
        for (String f : List.of("a", "b", "small")) {
            // Other sizes than production's answers: only framing ends them without a wait.
            Files.writeString(prefix.resolve("html/static/" + f + ".txt"), "replayed by the tcp engine " + f + "\n");
        }
        LocalServers.nginxConfig(prefix, """
                    log_format tb '$request_method $uri $status $server_protocol $remote_addr';
                    access_log logs/access.log tb;
                    server {
                        listen %s:%d http2;
                        root html;
                        location = /echo { return 201 "stored\\n"; }
                        location /api/ { default_type application/json; return 200 '{"replayed":true}'; }
                    }
                """.formatted(TcpTestNet.TEST_IP, H2_PORT));
        net.startServer("nginx-h2", H2_PORT, List.of("nginx", "-p", prefix + "/", "-c",
                prefix.resolve("nginx.conf").toString()));
        return prefix;
    }

    private ReplaySummary replay(String topic, int port, int instance) {
        // A 2 s quiet period: one answer judged by silence would show in the counts and the time.
        ReplayTuning tuning = ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2))
                .withResponseTimeout(Duration.ofSeconds(20)).withDrainTimeout(Duration.ofSeconds(20));
        return run(request(topic, port, ReplaySpeed.MAX), tuning, ReplayOptions.defaults(),
                options(instance, PAYLOAD_INTERCEPT_PORT));
    }

    /** The server's log lines "PATH KIND BYTES SHA256-PREFIX TIME" counted without their time. */
    private static Map<String, Long> messages(List<String> lines) {
        Map<String, Long> m = new TreeMap<>();
        for (String l : lines) {
            String[] f = l.split(" ");
            m.merge(String.join(" ", f[0], f[1], f[2], f[3]), 1L, Long::sum);
        }
        return m;
    }
}
