package dev.trafficbus.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.replay.socket.SocketReplay;
import dev.trafficbus.report.ReportInBrowser;
import dev.trafficbus.session.Conversation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The answer rules of the socket engine against real servers: nginx-light (answers of other sizes than
 * production's: Content-Length, chunked, HEAD, 204, 304, pipelined requests on keep-alive connections), a JDK
 * HttpServer that pauses mid-body for longer than the quiet period and answers Expect: 100-continue, and
 * redis-server replaying a capture made with redis-cli and redis-benchmark (testdata/redis-sessions.pcap).
 * Every answer must be judged by its framing: none by silence, none timed out.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AnswerRulesTest {
    private static final String SERVER = "10.5.0.1";
    /** Production's answers in the synthetic captures: never the size the test servers send. */
    private static final int PRODUCTION_ANSWER = 3000;
    private static TestKafka kafka;
    @TempDir
    static Path dir;
    private static final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        kafka = new TestKafka();
    }

    @AfterAll
    static void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Conversation client(int port, long startMicros) {
        return new Conversation("10.5.0.2", port, SERVER, 80, port * 7919L, port * 104729L, startMicros);
    }

    private static String request(String method, String path, String... headers) {
        StringBuilder b = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: t\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    private static ReplaySummary replay(String topic, InetSocketAddress target, ReplayTuning tuning, RunTimeline timeline) {
        ReplayRequest r = new ReplayRequest(topic, kafka.consumerConfig(), target, ReplaySpeed.MAX, topic, true, false);
        return new SocketReplay(r, tuning, ReplayOptions.defaults().withTimeline(timeline)).run();
    }

    private static int freePort() throws IOException {
        return LocalServers.freePort();
    }

    private static void waitForPort(int port) throws Exception {
        LocalServers.waitForPort(port);
    }

    private static String executable(String name, String debianPackage) {
        return LocalServers.executable(name, debianPackage);
    }

    /** nginx-light in its own prefix on a free loopback port; returns the port. */
    private static int startNginx() throws Exception {
        Path prefix = dir.resolve("nginx");
        Files.createDirectories(prefix.resolve("html"));
        Files.writeString(prefix.resolve("html/static.txt"), "static file\n".repeat(200));
        int port = freePort();
        processes.add(LocalServers.nginx(prefix, """
                    log_format tb '$request_method $uri $status $http_x_tb';
                    access_log logs/access.log tb;
                    keepalive_requests 100000;
                    root html;
                    server {
                        listen 127.0.0.1:%d;
                        location /size/ { default_type text/plain; return 200 "a body of another size\\n"; }
                        location = /nocontent { return 204; }
                        location /gz/ {
                            alias html/;
                            gzip on; gzip_min_length 1; gzip_types text/plain; default_type text/plain;
                        }
                        location / { default_type text/plain; }
                    }
                """.formatted(port), port));
        return port;
    }

    @Test
    void nginxAnswersOfOtherSizesEndByFramingWithoutWaitingForSilence() throws Exception {
        int port = startNginx();
        String lastModified = java.time.format.DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'",
                java.util.Locale.US).format(java.time.ZonedDateTime.ofInstant(
                Files.getLastModifiedTime(dir.resolve("nginx/html/static.txt")).toInstant(), java.time.ZoneOffset.UTC));
        String topic = "tb.capture.nginx-rules";
        kafka.createTopic(topic, 2);
        byte[] production = new byte[PRODUCTION_ANSWER];
        List<Conversation.Packet> packets = new ArrayList<>();
        int sessions = 4;
        for (int s = 0; s < sessions; s++) {
            Conversation c = client(43000 + s, 1_000_000 + s * 1000L).handshake();
            c.clientSends(request("GET", "/size/" + (100 + s))).serverSends(production, 1460);
            c.clientSends(request("GET", "/gz/static.txt", "Accept-Encoding: gzip")).serverSends(production, 1460);
            c.clientSends(request("HEAD", "/static.txt")).serverSends(production, 1460);
            c.clientSends(request("GET", "/nocontent")).serverSends(production, 1460);
            c.clientSends(request("GET", "/static.txt", "If-Modified-Since: " + lastModified))
                    .serverSends(production, 1460);
            // Three requests in one message (pipelined): answered by three responses.
            c.clientSends(request("GET", "/size/p1", "X-TB: pipelined") + request("HEAD", "/static.txt", "X-TB: pipelined")
                    + request("GET", "/gz/static.txt", "Accept-Encoding: gzip", "X-TB: pipelined"))
                    .serverSends(production, 1460);
            c.clientSends(request("GET", "/size/last")).serverSends(production, 1460);
            packets.addAll(c.clientFin().serverFin().clientAck().packets());
        }
        kafka.publish(topic, packets, List.of());
        // A quiet period of 2 s: any answer judged by silence would take that long.
        ReplayTuning tuning = ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2))
                .withResponseTimeout(Duration.ofSeconds(20));
        RunTimeline timeline = new RunTimeline();

        ReplaySummary s = replay(topic, new InetSocketAddress(InetAddress.getLoopbackAddress(), port), tuning, timeline);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(sessions);
        assertThat(s.messagesSent()).isEqualTo(7L * sessions);
        assertThat(s.messagesAnswered()).isEqualTo(7L * sessions);
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(7L * sessions);
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(s.answersJudged("timeout")).isZero();
        assertThat(s.problemsByReason()).isEmpty();
        Map<String, Object> report = timeline.toReport();
        JsonNode json = new ObjectMapper().valueToTree(report);
        assertThat(json.path("latencyMs").path("replayedMs").path("max").asDouble())
                .as("no answer waited for the 2 s quiet period").isLessThan(2000);

        List<String> log = Files.readAllLines(dir.resolve("nginx/logs/access.log"));
        assertThat(log).hasSize(9 * sessions);
        assertThat(log.stream().filter(l -> l.startsWith("GET /nocontent 204")).count()).isEqualTo(sessions);
        assertThat(log.stream().filter(l -> l.startsWith("GET /static.txt 304")).count()).as(String.join("\n", log))
                .isEqualTo(sessions);
        assertThat(log.stream().filter(l -> l.startsWith("HEAD /static.txt 200")).count()).isEqualTo(2L * sessions);
        assertThat(log.stream().filter(l -> l.startsWith("GET /gz/static.txt 200")).count())
                .as("the gzip location answers chunked").isEqualTo(2L * sessions);
        assertThat(log.stream().filter(l -> l.endsWith(" pipelined")).count()).isEqualTo(3L * sessions);

        // The endpoints as the report groups them: numeric path segments are one endpoint.
        JsonNode endpoints = json.path("endpoints");
        List<String> names = new ArrayList<>();
        endpoints.forEach(e -> names.add(e.path("endpoint").asText()));
        assertThat(names).contains("GET /size/{id}", "GET /gz/static.txt", "HEAD /static.txt", "GET /nocontent");
        JsonNode size = find(endpoints, "GET /size/{id}");
        assertThat(size.path("answered").asLong()).isEqualTo(sessions);
        assertThat(size.path("productionMs").path("count").asLong()).isEqualTo(sessions);
        assertThat(size.path("statusClasses").path("2xx").asLong()).isEqualTo(sessions);
        assertThat(json.path("statusCodes").path("204").asLong()).isEqualTo(sessions);
        assertThat(json.path("statusCodes").path("304").asLong()).isEqualTo(sessions);

        // The page a person reads: production beside the test server, in words, per endpoint; it renders.
        Map<String, Object> doc = new java.util.LinkedHashMap<>(s.toReport());
        doc.put("run", "answer-rules");
        doc.put("speed", "max");
        doc.put("timeline", report);
        Path page = dir.resolve("answer-rules.html");
        Files.writeString(page, dev.trafficbus.replay.report.HtmlReport.render(doc));
        ReportInBrowser.assertOpensWithoutErrors(page, Path.of("target", "answer-rules-report.png"));
        String dom = dumpDom(page);
        assertThat(dom).contains("How the end of each answer was known", "by the protocol's framing",
                "Every answer was recognised by its framing", "GET /size/{id}", "HEAD /static.txt",
                "test server, median", "production, median (same requests)", "seconds since the run started",
                "milliseconds", "requests per second", "production's average rate");
        assertThat(dom).doesNotContain("Micros");
    }

    /** The page as headless Chromium rendered it (its DOM after load). */
    private static String dumpDom(Path page) throws Exception {
        String chromium = ReportInBrowser.chromium();
        Assumptions.assumeTrue(chromium != null, "chromium is not installed (Debian package chromium); "
                + "the HTML report was not rendered");
        Path profile = Files.createTempDirectory(dir, "chromium-");
        Process p = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--dump-dom", page.toUri().toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        return dom;
    }

    private static JsonNode find(JsonNode endpoints, String name) {
        for (JsonNode e : endpoints) {
            if (e.path("endpoint").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no endpoint " + name + " in " + endpoints);
    }

    /** A JDK HttpServer: /pause and /chunked pause mid-body, /upload reads its body (100-continue is answered). */
    private static final class PausingServer implements AutoCloseable {
        static final long PAUSE_MS = 300;
        final HttpServer server;
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<Integer> uploads = new CopyOnWriteArrayList<>();

        PausingServer() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            server.setExecutor(Executors.newFixedThreadPool(4));
            server.createContext("/", ex -> {
                String path = ex.getRequestURI().getPath();
                seen.add(ex.getRequestMethod() + " " + path);
                try (InputStream in = ex.getRequestBody(); OutputStream out = ex.getResponseBody()) {
                    byte[] body = in.readAllBytes();
                    if (path.startsWith("/upload")) {
                        uploads.add(body.length);
                        byte[] ok = ("stored " + body.length + " bytes\n").getBytes(StandardCharsets.US_ASCII);
                        ex.sendResponseHeaders(201, ok.length);
                        out.write(ok);
                    } else if (path.startsWith("/pause")) {
                        ex.sendResponseHeaders(200, 10);
                        out.write("first".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        pause();
                        out.write("-last".getBytes(StandardCharsets.US_ASCII));
                    } else if (path.startsWith("/chunked")) {
                        ex.sendResponseHeaders(200, 0); // chunked
                        out.write("first chunk ".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        pause();
                        out.write("second chunk".getBytes(StandardCharsets.US_ASCII));
                    } else {
                        byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
                        ex.sendResponseHeaders(200, ok.length);
                        out.write(ok);
                    }
                }
            });
            server.start();
        }

        private static void pause() {
            try {
                Thread.sleep(PAUSE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        InetSocketAddress address() {
            return server.getAddress();
        }

        @Override
        public void close() {
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }

    @Test
    void aServerPausingMidBodyIsNotCutShortAndExpectContinueWaitsForTheFinalAnswer() throws Exception {
        String topic = "tb.capture.pausing";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> packets = new ArrayList<>();
        // Production answered 25 bytes: another size than the server's, so the old rule would wait for silence
        // and take the pause for the end.
        byte[] production = new byte[25];
        Conversation c = client(44000, 1_000_000).handshake();
        c.clientSends(request("GET", "/pause/1")).serverSends(production, 1460);
        c.clientSends(request("GET", "/after/1")).serverSends(production, 1460);
        c.clientSends(request("GET", "/chunked/1")).serverSends(production, 1460);
        c.clientSends(request("GET", "/after/2")).serverSends(production, 1460);
        packets.addAll(c.clientFin().serverFin().clientAck().packets());
        // Expect: 100-continue: the client sent its headers, waited for the 100, then the body.
        byte[] body = new byte[4000];
        java.util.Arrays.fill(body, (byte) 'u');
        Conversation up = client(44001, 1_001_000).handshake();
        up.clientSends(request("PUT", "/upload/7", "Expect: 100-continue", "Content-Length: " + body.length))
                .serverSends("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 1460);
        up.clientSends(body, 1460).serverSends(production, 1460);
        packets.addAll(up.clientFin().serverFin().clientAck().packets());
        kafka.publish(topic, packets, List.of());
        RunTimeline timeline = new RunTimeline();

        try (PausingServer server = new PausingServer()) {
            ReplaySummary s = replay(topic, server.address(), ReplayTuning.defaults(), timeline);

            assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(2);
            assertThat(s.messagesSent()).isEqualTo(6);
            assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(6);
            assertThat(s.answersJudged("silence")).isZero();
            assertThat(s.problemsByReason()).isEmpty();
            assertThat(server.seen).containsSubsequence("GET /pause/1", "GET /after/1", "GET /chunked/1", "GET /after/2");
            assertThat(server.uploads).containsExactly(body.length);
            JsonNode endpoints = new ObjectMapper().valueToTree(timeline.toReport()).path("endpoints");
            for (String paused : List.of("GET /pause/{id}", "GET /chunked/{id}")) {
                assertThat(find(endpoints, paused).path("replayedMs").path("p50").asDouble())
                        .as(paused + " waited out the pause").isGreaterThanOrEqualTo(PausingServer.PAUSE_MS);
            }
            assertThat(find(endpoints, "PUT /upload/{id}").path("statusClasses").path("2xx").asLong()).isEqualTo(1);
        }
    }

    @Test
    void atCapturedSpeedEachRequestIsDueAtItsCapturedTimeOnceItsAnswerIsFramed() throws Exception {
        String topic = "tb.capture.paced";
        kafka.createTopic(topic, 1);
        // 20 requests 10 ms apart on one keep-alive connection; production answered 3000 bytes, the server 2.
        int requests = 20;
        long gapMicros = 10_000;
        // A session 1 s earlier anchors the clock, so the paced one starts once the consumer holds all of it.
        List<Conversation.Packet> packets = new ArrayList<>(client(46001, 1_000_000).handshake()
                .clientSends(request("GET", "/warmup")).serverSends(new byte[PRODUCTION_ANSWER], 1460)
                .clientFin().serverFin().clientAck().packets());
        Conversation c = client(46000, 2_000_000).handshake();
        for (int k = 0; k < requests; k++) {
            c.clientSends(request("GET", "/paced/" + k)).serverSends(new byte[PRODUCTION_ANSWER], 1460).after(gapMicros);
        }
        packets.addAll(c.clientFin().serverFin().clientAck().packets());
        kafka.publish(topic, packets, List.of());

        try (RecordingHttpServer server = new RecordingHttpServer()) {
            ReplayRequest r = new ReplayRequest(topic, kafka.consumerConfig(), server.address(), ReplaySpeed.REALTIME,
                    topic, true, false);
            ReplaySummary s = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults()).run();

            assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(requests + 1);
            List<RecordingHttpServer.Request> got = server.requests.stream()
                    .filter(q -> q.path().startsWith("/paced/")).toList();
            assertThat(got).hasSize(requests);
            long spanMs = (got.get(requests - 1).arrivedNanos() - got.get(0).arrivedNanos()) / 1_000_000;
            // Captured: 19 gaps of about 10 ms. Waiting 50 ms of silence after each answer would take ≥ 950 ms.
            assertThat(spanMs).as("first to last request").isBetween(19 * gapMicros / 1000 - 15, 600L);
            // Not early: each request at least its captured offset after the first, less the first one's own
            // lateness in reaching the server (a few ms on a busy machine).
            for (int k = 1; k < requests; k++) {
                long atMs = (got.get(k).arrivedNanos() - got.get(0).arrivedNanos()) / 1_000_000;
                assertThat(atMs).as("request %d not before its captured time", k)
                        .isGreaterThanOrEqualTo(k * gapMicros / 1000 - 15);
            }
        }
    }

    @Test
    void aCapturedRedisSessionIsReplayedOneReplyPerCommand() throws Exception {
        String redis = executable("redis-server", "redis-server");
        executable("redis-cli", "redis-tools");
        Map<String, String> expected = new java.util.HashMap<>();
        for (String line : Files.readAllLines(CaptureFixture.testdata().resolve("redis-sessions.expected"))) {
            String[] f = line.split(" ", 2);
            expected.put(f[0], f[1]);
        }
        CaptureFixture capture = CaptureFixture.packetsOf("redis-sessions", Integer.parseInt(expected.get("port")));
        String topic = "tb.capture.redis";
        kafka.createTopic(topic, 2);
        capture.publish(kafka.bootstrapServers(), topic, "redis1", 1);
        int port = freePort();
        processes.add(new ProcessBuilder(redis, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start());
        waitForPort(port);
        RunTimeline timeline = new RunTimeline();

        ReplaySummary s = replay(topic, new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2)), timeline);

        long sessions = capture.synTimes().size();
        assertThat(sessions).isGreaterThanOrEqualTo(7);
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(sessions);
        assertThat(s.messagesAnswered()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(cli(port, "GET", "counter")).isEqualTo(expected.get("counter"));
        assertThat(cli(port, "LLEN", "list")).isEqualTo(expected.get("list-length"));
        assertThat(cli(port, "GET", "key:39")).isEqualTo(expected.get("key:39"));
        JsonNode endpoints = new ObjectMapper().valueToTree(timeline.toReport()).path("endpoints");
        List<String> names = new ArrayList<>();
        endpoints.forEach(e -> names.add(e.path("endpoint").asText()));
        assertThat(names).contains("SET", "GET", "HGETALL", "LPUSH");
    }

    private static String cli(int port, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
