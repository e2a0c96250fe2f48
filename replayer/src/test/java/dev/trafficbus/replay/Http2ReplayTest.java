package dev.trafficbus.replay;

import dev.trafficbus.replay.CaptureFixture.PathCounts;
import dev.trafficbus.replay.socket.SocketReplay;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static dev.trafficbus.replay.CaptureFixture.countLines;
import static dev.trafficbus.replay.CaptureFixture.pathCounts;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 captures made with real tools (testdata/make-h2-captures.sh: nghttp and h2load against nginx with
 * http2, nghttp's Upgrade: h2c against Go's h2c server, a python3-grpcio client and server) replayed into the
 * same kinds of server: every request arrives once, and every answer is judged by its framing (END_STREAM,
 * RST_STREAM), none by silence — the quiet period is 2 s, so one guess would show in the run's length too.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class Http2ReplayTest {
    private static TestKafka kafka;
    @TempDir
    static Path dir;
    private final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        kafka = new TestKafka();
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @AfterEach
    void stopServers() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        processes.clear();
    }

    /** Publishes fixture {@code name} to a new topic named after it and {@code run}; returns the topic. */
    static String publish(String name, PathCounts e, String run) throws Exception {
        CaptureFixture capture = CaptureFixture.packetsOf(name, e.port());
        String topic = "tb.capture." + name + "." + run;
        kafka.createTopic(topic, 2);
        capture.publish(kafka.bootstrapServers(), topic, name, 1);
        return topic;
    }

    static long sessions(String name, PathCounts e) throws Exception {
        return CaptureFixture.packetsOf(name, e.port()).synTimes().size();
    }

    static ReplaySummary replay(String topic, int port, ReplayOptions options) {
        ReplayRequest r = new ReplayRequest(topic, kafka.consumerConfig(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), ReplaySpeed.MAX, topic, true, false);
        ReplayTuning tuning = ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2))
                .withResponseTimeout(Duration.ofSeconds(20));
        return new SocketReplay(r, tuning, options).run();
    }

    static void assertAllFramed(ReplaySummary s, long sessions) {
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(sessions);
        assertThat(s.messagesAnswered()).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(s.answersJudged("timeout")).isZero();
        assertThat(s.problemsByReason()).as(s.summaryLine()).isEmpty();
    }

    /** nginx-light with http2 on a plain port (prior knowledge), files of other sizes than production's. */
    int startNginx(Path prefix) throws Exception {
        return startNginx(prefix, "");
    }

    /** As above, with {@code directives} in its server block. */
    int startNginx(Path prefix, String directives) throws Exception {
        Files.createDirectories(prefix.resolve("html/static"));
        for (String f : List.of("a", "b", "small")) {
            Files.writeString(prefix.resolve("html/static/" + f + ".txt"), "replayed " + f + "\n");
        }
        int port = LocalServers.freePort();
        processes.add(LocalServers.nginx(prefix, """
                    log_format tb '$request_method $uri $status $http_x_tb';
                    access_log logs/access.log tb;
                    server {
                        listen 127.0.0.1:%d http2;
                        %s
                        root html;
                        location = /echo { return 201 "stored\\n"; }
                        location /api/ { default_type application/json; return 200 '{"replayed":true}'; }
                    }
                """.formatted(port, directives), port));
        return port;
    }

    /** Go's h2c server (testdata/h2c-server.go), built here; {@code args} set other SETTINGS. */
    Path startGoServer(int port, Path log, String... args) throws Exception {
        String go = LocalServers.executable("go", "golang-go");
        LocalServers.requireFile("/usr/share/gocode/src/golang.org/x/net/http2/h2c/h2c.go", "golang-golang-x-net-dev");
        Path bin = dir.resolve("h2c-server");
        if (!Files.isExecutable(bin)) {
            ProcessBuilder pb = new ProcessBuilder(go, "build", "-o", bin.toString(),
                    CaptureFixture.testdata().resolve("h2c-server.go").toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("go-build.log").toFile());
            // Debian's golang.org/x/net, without modules: nothing is downloaded.
            pb.environment().put("GO111MODULE", "off");
            pb.environment().put("GOPATH", "/usr/share/gocode");
            pb.environment().put("GOCACHE", dir.resolve("gocache").toString());
            Process b = pb.start();
            assertThat(b.waitFor(180, TimeUnit.SECONDS)).as("go build").isTrue();
            assertThat(b.exitValue()).as(Files.readString(dir.resolve("go-build.log"))).isZero();
        }
        Path root = Files.createDirectories(dir.resolve("htdocs"));
        for (String f : List.of("a", "b", "c", "d")) {
            Files.writeString(root.resolve(f + ".txt"), "replayed " + f + "\n");
        }
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "-listen", "127.0.0.1:" + port, "-root", root.toString()));
        cmd.addAll(List.of(args));
        processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
        LocalServers.waitForPort(port);
        return log;
    }

    /** testdata/grpc-greeter.py serving on {@code port}; its calls are logged to {@code log}. */
    void startGrpcServer(int port, Path log) throws Exception {
        processes.add(grpcServer(port, log));
    }

    /** Starts testdata/grpc-greeter.py on {@code port} (Debian's python3-grpcio); the caller stops it. */
    static Process grpcServer(int port, Path log) throws Exception {
        String python = LocalServers.executable("python3", "python3");
        Process check = new ProcessBuilder(python, "-c", "import grpc").redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(check.waitFor() == 0,
                "python3-grpcio is not installed (Debian package python3-grpcio); this test did not run");
        Process p = new ProcessBuilder(python, CaptureFixture.testdata().resolve("grpc-greeter.py").toString(),
                "serve", Integer.toString(port)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            LocalServers.waitForPort(port);
        } catch (IllegalStateException e) {
            p.destroyForcibly();
            throw e;
        }
        return p;
    }

    static Map<String, Long> grpcCalls(Path log) throws Exception {
        return countLines(log, l -> l.startsWith("call ") ? l.split(" ")[1] : null);
    }

    @Test
    void nghttpAndH2loadAgainstNginxReplayEveryStreamOnceJudgedByFraming() throws Exception {
        PathCounts e = pathCounts("h2c-nginx");
        String topic = publish("h2c-nginx", e, "framing");
        Path prefix = dir.resolve("nginx");
        int port = startNginx(prefix);

        long t0 = System.nanoTime();
        ReplaySummary s = replay(topic, port, ReplayOptions.defaults());
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertAllFramed(s, sessions("h2c-nginx", e));
        Map<String, Long> got = countLines(prefix.resolve("logs/access.log"), l -> l.split(" ")[1]);
        assertThat(got).isEqualTo(e.paths());
        assertThat(e.requests()).isGreaterThanOrEqualTo(205);
        // One answer judged by silence would cost the 2 s quiet period.
        assertThat(ms).as("replay took %d ms", ms).isLessThan(20_000);
    }

    @Test
    void streamsTheServerRefusesAfterItsGoAwayAreCountedAsStreamResets() throws Exception {
        // h2load sent 100 requests on each of its two connections; this nginx says GOAWAY after 50 of them and
        // answers none of those that follow on the connection.
        PathCounts e = pathCounts("h2c-nginx");
        String topic = publish("h2c-nginx", e, "refused");
        Path prefix = dir.resolve("nginx-refusing");
        int port = startNginx(prefix, "keepalive_requests 50;");

        ReplaySummary s = replay(topic, port, ReplayOptions.defaults());

        long served = Files.readAllLines(prefix.resolve("logs/access.log")).size();
        assertThat(served).as("nginx refused some streams").isLessThan(e.requests());
        assertThat(s.problemsByReason()).as(s.summaryLine()).containsOnlyKeys("stream-reset")
                .containsEntry("stream-reset", e.requests() - served);
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("timeout")).isZero();
        // The messages sent after the GOAWAY got frames back, but none of their requests an answer.
        assertThat(s.messagesUnanswered()).as(s.summaryLine()).isPositive()
                .isLessThanOrEqualTo(e.requests() - served);
        assertThat(s.exitCode()).isEqualTo(ReplaySummary.EXIT_INCOMPLETE);
    }

    @Test
    void anUpgradeToH2cIsFollowedIntoHttp2() throws Exception {
        PathCounts e = pathCounts("h2c-upgrade");
        String topic = publish("h2c-upgrade", e, "framing");
        int port = LocalServers.freePort();
        Path log = startGoServer(port, dir.resolve("upgrade.log"));

        ReplaySummary s = replay(topic, port, ReplayOptions.defaults());

        assertAllFramed(s, sessions("h2c-upgrade", e));
        assertThat(countLines(log, l -> l.startsWith("request ") ? l.split(" ")[3] : null)).isEqualTo(e.paths());
    }

    @Test
    void grpcCallsReplayOnceEachJudgedByFraming() throws Exception {
        PathCounts e = pathCounts("grpc-calls");
        String topic = publish("grpc-calls", e, "framing");
        int port = LocalServers.freePort();
        Path log = dir.resolve("grpc.log");
        startGrpcServer(port, log);

        ReplaySummary s = replay(topic, port, ReplayOptions.defaults());

        assertAllFramed(s, sessions("grpc-calls", e));
        assertThat(grpcCalls(log)).isEqualTo(e.paths());
    }

    static ReplayOptions setHeader(String header) {
        return ReplayOptions.defaults().withHttp(dev.trafficbus.replay.http.HttpRewriteRules.none().setHeader(header));
    }

    @Test
    void aHeaderRewriteReachesNginxOnEveryHttp2Request() throws Exception {
        PathCounts e = pathCounts("h2c-nginx");
        String topic = publish("h2c-nginx", e, "rewrite");
        Path prefix = dir.resolve("nginx-rewrite");
        int port = startNginx(prefix);

        ReplaySummary s = replay(topic, port, setHeader("X-TB: rewritten"));

        assertAllFramed(s, sessions("h2c-nginx", e));
        List<String> log = Files.readAllLines(prefix.resolve("logs/access.log"));
        assertThat(log).hasSize((int) e.requests());
        assertThat(log).allMatch(l -> l.endsWith(" rewritten"), "every request carries the header");
        assertThat(countLines(prefix.resolve("logs/access.log"), l -> l.split(" ")[1])).isEqualTo(e.paths());
    }

    @Test
    void aServerWithATinyHeaderTableStillReadsTheReencodedRequests() throws Exception {
        // Go's server announces SETTINGS_HEADER_TABLE_SIZE 64: the client's captured encoding (a 4096-byte table)
        // would not decode there; the replay's own encoding uses no table.
        PathCounts e = pathCounts("h2c-nginx");
        String topic = publish("h2c-nginx", e, "tiny-table");
        int port = LocalServers.freePort();
        Path log = startGoServer(port, dir.resolve("tiny-table.log"), "-header-table", "64");

        ReplaySummary s = replay(topic, port, setHeader("X-TB: tiny"));

        assertAllFramed(s, sessions("h2c-nginx", e));
        Map<String, Long> got = countLines(log, l -> l.startsWith("request ") ? l.split(" ")[3] : null);
        assertThat(got).isEqualTo(e.paths());
        assertThat(Files.readAllLines(log).stream().filter(l -> l.startsWith("request "))).allMatch(l -> l.endsWith("x-tb=tiny"));
    }

    @Test
    void responseRecordsHoldEachGrpcCallsAnswersFromBothServers() throws Exception {
        PathCounts e = pathCounts("grpc-calls");
        String topic = publish("grpc-calls", e, "responses");
        String responses = "tb.responses.grpc-h2";
        kafka.createTopic(responses, 1);
        int port = LocalServers.freePort();
        startGrpcServer(port, dir.resolve("grpc-responses.log"));

        ReplaySummary s = replay(topic, port, ReplayOptions.defaults().withResponses(responses, "h2run"));

        assertAllFramed(s, sessions("grpc-calls", e));
        List<com.fasterxml.jackson.databind.JsonNode> records =
                TestKafka.readJson(kafka.bootstrapServers(), responses, (int) e.requests());
        assertThat(records).hasSize((int) e.requests());
        Map<String, Long> endpoints = new TreeMap<>();
        for (com.fasterxml.jackson.databind.JsonNode r : records) {
            endpoints.merge(r.path("endpoint").asText(), 1L, Long::sum);
            assertThat(r.path("error").isNull()).as(r.toString()).isTrue();
            for (String side : List.of("replayed", "production")) {
                com.fasterxml.jackson.databind.JsonNode answer = r.path(side);
                assertThat(answer.path("status").asInt()).as(side + " " + r).isEqualTo(200);
                assertThat(answer.path("headers").toString()).as(side).contains("[\"grpc-status\",\"0\"]");
                assertThat(java.util.Base64.getDecoder().decode(answer.path("bodyBase64").asText()))
                        .as(side + " holds the gRPC messages").isNotEmpty();
            }
            // The same service answered both: the same messages on the wire.
            assertThat(r.path("replayed").path("bodyBase64").asText())
                    .isEqualTo(r.path("production").path("bodyBase64").asText());
        }
        assertThat(endpoints).containsEntry("POST /tb.test.Greeter/SayHello", e.paths().get("/tb.test.Greeter/SayHello"));
    }

    @Test
    void aSessionCapturedMidConnectionIsCountedAndReplayedAsCaptured() throws Exception {
        PathCounts e = pathCounts("h2c-nginx");
        CaptureFixture all = CaptureFixture.packetsOf("h2c-nginx", e.port());
        // The last connection (h2load's second client), from its tenth client segment with data on: its preface,
        // SETTINGS and the requests that filled the client's HPACK table are not in the capture.
        int port = all.packets.stream().filter(CaptureFixture.Packet::clientSyn).reduce((a, b) -> b).orElseThrow()
                .clientPort();
        int[] dataSegments = {0};
        CaptureFixture cut = all.filtered(p -> p.clientPort() == port && (!p.clientToServer()
                ? dataSegments[0] >= 10 : ++dataSegments[0] > 10 && p.ip().length > 52));
        String topic = "tb.capture.h2c-nginx.mid";
        kafka.createTopic(topic, 1);
        cut.publish(kafka.bootstrapServers(), topic, "mid", 1);
        int target = startNginx(dir.resolve("nginx-mid"));

        ReplaySummary s = replay(topic, target, setHeader("X-TB: mid"));

        assertThat(s.problemsByReason()).as(s.summaryLine()).containsEntry("http-mid-connection", 1L);
        assertThat(s.messagesSent()).as(s.summaryLine()).isPositive();
    }

    @Test
    void aHeaderRewriteReachesTheGrpcServerOnEveryCall() throws Exception {
        PathCounts e = pathCounts("grpc-calls");
        String topic = publish("grpc-calls", e, "rewrite");
        int port = LocalServers.freePort();
        Path log = dir.resolve("grpc-rewrite.log");
        startGrpcServer(port, log);

        ReplaySummary s = replay(topic, port, setHeader("X-TB: grpc"));

        assertAllFramed(s, sessions("grpc-calls", e));
        assertThat(grpcCalls(log)).isEqualTo(e.paths());
        assertThat(Files.readAllLines(log).stream().filter(l -> l.startsWith("call "))).allMatch(l -> l.endsWith("x-tb=grpc"));
    }

    /** The report's endpoint rows of {@code timeline}, by name: {answered, 2xx, 4xx}. */
    static Map<String, List<Long>> endpointRows(dev.trafficbus.replay.report.RunTimeline timeline) {
        com.fasterxml.jackson.databind.JsonNode rows = new com.fasterxml.jackson.databind.ObjectMapper()
                .valueToTree(timeline.toReport()).path("endpoints");
        Map<String, List<Long>> m = new TreeMap<>();
        rows.forEach(r -> m.put(r.path("endpoint").asText(), List.of(r.path("answered").asLong(),
                r.path("statusClasses").path("2xx").asLong(), r.path("statusClasses").path("4xx").asLong())));
        return m;
    }

    @Test
    void theReportHasARowPerGrpcMethodWithItsStatuses() throws Exception {
        PathCounts e = pathCounts("grpc-calls");
        String topic = publish("grpc-calls", e, "endpoints");
        int port = LocalServers.freePort();
        startGrpcServer(port, dir.resolve("grpc-endpoints.log"));
        dev.trafficbus.replay.report.RunTimeline timeline = new dev.trafficbus.replay.report.RunTimeline();

        ReplaySummary s = replay(topic, port, ReplayOptions.defaults().withTimeline(timeline));

        assertAllFramed(s, sessions("grpc-calls", e));
        Map<String, List<Long>> rows = endpointRows(timeline);
        // Every call's answer status (200, its headers; grpc-status follows in the trailers) under its method.
        for (Map.Entry<String, Long> call : e.paths().entrySet()) {
            assertThat(rows.get("POST " + call.getKey())).as(rows.toString()).isNotNull();
            assertThat(rows.get("POST " + call.getKey()).get(1)).as(call.getKey() + " " + rows).isEqualTo(call.getValue());
        }
        assertThat(rows.values().stream().mapToLong(r -> r.get(0)).sum()).isEqualTo(s.messagesSent());
    }

    @Test
    void theReportHasARowPerHttp2PathTemplateWithItsStatuses() throws Exception {
        PathCounts e = pathCounts("h2c-nginx");
        String topic = publish("h2c-nginx", e, "endpoints");
        int port = startNginx(dir.resolve("nginx-endpoints"));
        dev.trafficbus.replay.report.RunTimeline timeline = new dev.trafficbus.replay.report.RunTimeline();

        ReplaySummary s = replay(topic, port, ReplayOptions.defaults().withTimeline(timeline));

        assertAllFramed(s, sessions("h2c-nginx", e));
        Map<String, List<Long>> rows = endpointRows(timeline);
        assertThat(rows.get("GET /static/small.txt").get(1)).as(rows.toString()).isEqualTo(e.paths().get("/static/small.txt"));
        assertThat(rows.get("GET /static/missing.txt").get(2)).as(rows.toString()).isEqualTo(1);
        assertThat(rows.get("GET /api/users/{id}").get(1)).as(rows.toString()).isEqualTo(1);
        // Each stream's status is under the endpoint it asked, none unnamed.
        assertThat(rows.values().stream().mapToLong(r -> r.get(1) + r.get(2)).sum()).isEqualTo(e.requests());
        assertThat(rows).doesNotContainKey(dev.trafficbus.replay.report.RunTimeline.OTHER_ENDPOINTS);
    }
}
