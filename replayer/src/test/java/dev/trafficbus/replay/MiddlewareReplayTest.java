package dev.trafficbus.replay;

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

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code replay --middleware} with real programs speaking GoReplay's protocol, a real broker and a real HTTP
 * server, from the http-sessions capture (32 requests in 16 sessions): requests changed, left out, a program that
 * hangs or exits; and GoReplay's own example middlewares, unchanged, when its source is at hand.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MiddlewareReplayTest {
    private static final Path FIXTURES = Path.of("src", "test", "resources", "middleware");
    private static TestKafkaCluster kafka;
    private static CaptureFixture http;
    private static int topics;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafkaCluster.start();
        http = CaptureFixture.load("http-sessions");
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A fresh topic holding the capture. */
    private static String topic() throws Exception {
        String topic = "tb.capture.mw" + (++topics);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        return topic;
    }

    private static CommandOutput replay(String topic, RecordingHttpServer server, String... more) {
        List<String> args = new ArrayList<>(List.of("--topic", topic, "--target", TargetAddress.show(server.address()),
                "--bootstrap-servers", kafka.bootstrapServers(), "--until-end", "--speed", "max"));
        args.addAll(List.of(more));
        return CommandOutput.run(new ReplayCommand(), args.toArray(String[]::new));
    }

    private static long problem(CommandOutput o, String name) {
        Matcher m = Pattern.compile("\\b" + Pattern.quote(name) + "=(\\d+)").matcher(o.out());
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static Map<String, Long> count(Stream<String> paths) {
        return new TreeMap<>(paths.collect(Collectors.groupingBy(Function.identity(), Collectors.counting())));
    }

    private static Map<String, Long> capturedPaths(int times) {
        return count(Stream.generate(() -> http.expected.stream().map(CaptureFixture.Expected::path)).limit(times)
                .flatMap(Function.identity()));
    }

    private static String python(String fixture) {
        return "python3 " + FIXTURES.resolve(fixture).toAbsolutePath();
    }

    @Test
    void aMiddlewareThatAddsAHeaderChangesEveryRequestTheServerSees() throws Exception {
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            CommandOutput o = replay(topic(), server, "--middleware", python("add_header.py"),
                    "--http-set-header", "X-Replay: 1");
            assertThat(o.exitCode()).as(o.err()).isZero();
            assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path)))
                    .isEqualTo(capturedPaths(1));
            for (RecordingHttpServer.Request r : server.requests) {
                assertThat(r.header("X-Middleware")).as(r.path()).isEqualTo("1");
                assertThat(r.header("X-Replay")).as("rewrites still apply after the middleware").isEqualTo("1");
            }
            assertPostBodyIntact(server);
            assertThat(o.out()).doesNotContain("middleware-");
            assertThat(o.err()).as("the middleware's stderr is logged").contains("middleware: seen GET /s01/r01");
        }
    }

    @Test
    void aMiddlewareThatDropsEveryTenthRequestHasExactlyThoseCountedAndNeverSent(@TempDir Path dir) throws Exception {
        Path dropped = dir.resolve("dropped.txt");
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            CommandOutput o = replay(topic(), server, "--loop", "2", "--middleware-timeout", "3s",
                    "--middleware", python("drop_tenth.py") + " " + dropped);
            assertThat(o.exitCode()).as(o.err()).isZero();
            List<String> droppedLines = Files.readAllLines(dropped);
            assertThat(droppedLines).hasSize(6); // 64 requests: the 10th, 20th, ... 60th
            assertThat(problem(o, "middleware-dropped")).as(o.out()).isEqualTo(6);
            assertThat(problem(o, "middleware-timeout")).as(o.out()).isZero();
            assertThat(server.requests).hasSize(64 - 6);
            Map<String, Long> seen = count(Stream.concat(server.requests.stream().map(RecordingHttpServer.Request::path),
                    droppedLines.stream().map(l -> l.split(" ")[1])));
            assertThat(seen).as("every request either reached the server or was dropped, once")
                    .isEqualTo(capturedPaths(2));
        }
    }

    @Test
    void aMiddlewareThatHangsHasEveryRequestCountedAsTimeoutAndTheRunEnds() throws Exception {
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            long t0 = System.nanoTime();
            CommandOutput o = replay(topic(), server, "--middleware-timeout", "100ms", "--middleware", python("hang.py"));
            assertThat(problem(o, "middleware-timeout")).as(o.out()).isEqualTo(32);
            assertThat(problem(o, "middleware-dropped")).isZero();
            assertThat(server.requests).isEmpty();
            assertThat((System.nanoTime() - t0) / 1e9).as("the run ends").isLessThan(60);
        }
    }

    /**
     * A program that takes its time over each request (150 ms here, with up to 1 s allowed) is handed the
     * requests of many sessions at once, as GoReplay feeds it: a session waiting for it holds no other session
     * of its event loop, so with 16 sessions it holds far more than the run's two event loops.
     */
    @Test
    void aSlowMiddlewareIsGivenTheRequestsOfManySessionsAtOnce(@TempDir Path dir) throws Exception {
        Path held = dir.resolve("held.txt");
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            CommandOutput o = replay(topic(), server, "--io-threads", "2", "--middleware-timeout", "1s",
                    "--middleware", python("slow_answers.py") + " " + held);
            assertThat(o.exitCode()).as(o.err()).isZero();
            assertThat(problem(o, "middleware-timeout")).as(o.out()).isZero();
            assertThat(problem(o, "middleware-dropped")).as(o.out()).isZero();
            assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path)))
                    .isEqualTo(capturedPaths(1));
            assertThat(Integer.parseInt(Files.readString(held).trim()))
                    .as("requests the middleware held at once (16 sessions, 2 event loops)").isGreaterThanOrEqualTo(8);
        }
    }

    @Test
    void aMiddlewareThatExitsStopsTheRunWithAClearMessage() throws Exception {
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            CommandOutput o = replay(topic(), server, "--middleware", python("exit_after_first.py"));
            assertThat(problem(o, "middleware-exited")).as(o.out()).isPositive();
            assertThat(o.err()).contains("exited (status 3): the replay stops").contains("middleware: giving up");
            assertThat(server.requests).isEmpty();
        }
    }

    /** GoReplay's own echo middlewares (examples/middleware in its source), run unchanged. */
    @Test
    void goReplaysEchoExamplesPassEveryRequestThroughUnchanged(@TempDir Path dir) throws Exception {
        Path examples = GoReplayExamples.extract(dir);
        Assumptions.assumeTrue(examples != null,
                "GoReplay's source (../shared/peers/goreplay-*.tar.gz) is not here: its example middlewares are not run");
        List<String> commands = new ArrayList<>();
        commands.add("python3 " + examples.resolve("echo.py"));
        if (GoReplayExamples.onPath("xxd")) {
            commands.add("bash " + examples.resolve("echo.sh"));
        }
        if (GoReplayExamples.onPath("node")) {
            commands.add("node " + examples.resolve("echo.js"));
        }
        if (GoReplayExamples.onPath("ruby")) {
            commands.add("ruby " + examples.resolve("echo.rb"));
        }
        for (String command : commands) {
            try (RecordingHttpServer server = new RecordingHttpServer()) {
                // An interpreter that starts slowly on a loaded machine must not turn its first requests into timeouts.
                CommandOutput o = replay(topic(), server, "--middleware-timeout", "5s", "--middleware", command);
                assertThat(o.exitCode()).as(command + ": " + o.err()).isZero();
                assertThat(o.out()).as(command).doesNotContain("middleware-");
                assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path)))
                        .as(command).isEqualTo(capturedPaths(1));
                assertPostBodyIntact(server);
            }
        }
    }

    /**
     * GoReplay's token_modifier example, unchanged: the captured sessions use tokens a fresh service never issued,
     * so their /secure requests only succeed when the middleware reads production's and the test server's answers
     * to /token and rewrites the token. Without --middleware-responses every one is refused.
     */
    @Test
    void goReplaysTokenModifierRewritesTokensFromTheAnswers(@TempDir Path dir) throws Exception {
        Path tokenModifier = GoReplayExamples.buildTokenModifier(dir);
        Assumptions.assumeTrue(tokenModifier != null,
                "GoReplay's source (../shared/peers/goreplay-*.tar.gz) or Go (golang-go) is not here: token_modifier not run");
        List<String> expected = Files.readAllLines(CaptureFixture.testdata().resolve("http-tokens.expected"));
        int port = expected.stream().filter(l -> l.startsWith("port ")).map(l -> Integer.parseInt(l.substring(5)))
                .findFirst().orElseThrow();
        long secure = expected.stream().filter(l -> l.endsWith(" /secure")).count();
        CaptureFixture tokens = CaptureFixture.packetsOf("http-tokens", port);
        for (boolean responses : new boolean[] {true, false}) {
            String topic = "tb.capture.mwtok" + (++topics);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            }
            tokens.publish(kafka.bootstrapServers(), topic, "auth1", 1);
            try (TokenService service = new TokenService()) {
                List<String> args = new ArrayList<>(List.of("--topic", topic, "--target", "127.0.0.1:" + service.port,
                        "--bootstrap-servers", kafka.bootstrapServers(), "--until-end", "--speed", "max",
                        "--middleware-timeout", "5s", "--middleware", tokenModifier.toString()));
                if (responses) {
                    args.add("--middleware-responses");
                }
                CommandOutput o = CommandOutput.run(new ReplayCommand(), args.toArray(String[]::new));
                assertThat(o.exitCode()).as(o.err()).isZero();
                assertThat(o.out()).doesNotContain("middleware-");
                long[] stats = service.stats();
                if (responses) {
                    assertThat(stats[0]).as("accepted /secure: " + o.err()).isEqualTo(secure);
                    assertThat(stats[1]).as("rejected /secure").isZero();
                    assertThat(o.err()).as("its stderr is logged").contains("[DEBUG][TOKEN-MOD] Create alias");
                } else {
                    assertThat(stats[0]).as("accepted /secure without the answers").isZero();
                    assertThat(stats[1]).isEqualTo(secure);
                }
            }
        }
    }

    /** GoReplay's echo.py with --middleware-responses: it is handed both answers of every request, and still passes all. */
    @Test
    void everyRequestsTwoAnswersReachTheMiddleware(@TempDir Path dir) throws Exception {
        Path examples = GoReplayExamples.extract(dir);
        Assumptions.assumeTrue(examples != null,
                "GoReplay's source (../shared/peers/goreplay-*.tar.gz) is not here: its example middlewares are not run");
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            CommandOutput o = replay(topic(), server, "--middleware-timeout", "5s",
                    "--middleware", "python3 " + examples.resolve("echo.py"), "--middleware-responses");
            assertThat(o.exitCode()).as(o.err()).isZero();
            assertThat(o.out()).doesNotContain("middleware-");
            assertThat(server.requests).hasSize(http.expected.size());
            assertThat(occurrences(o.err(), "Request type: Request")).isEqualTo(http.expected.size());
            assertThat(occurrences(o.err(), "Request type: Original Response")).isEqualTo(http.expected.size());
            assertThat(occurrences(o.err(), "Request type: Replayed Response")).isEqualTo(http.expected.size());
        }
    }

    @Test
    void middlewareResponsesWithoutAMiddlewareIsRefused() {
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "127.0.0.1:1", "--middleware-responses");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("--middleware-responses needs --middleware");
    }

    private static long occurrences(String text, String what) {
        return Pattern.compile(Pattern.quote(what) + "\\b").matcher(text).results().count();
    }

    /** testdata/token-server.py on a free loopback port, stopped by its PID. */
    private static final class TokenService implements AutoCloseable {
        final Process process;
        final int port;

        TokenService() throws Exception {
            process = new ProcessBuilder("python3", CaptureFixture.testdata().resolve("token-server.py").toString(), "0")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                port = Integer.parseInt(new java.io.BufferedReader(new java.io.InputStreamReader(
                        process.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII)).readLine().trim());
            } catch (RuntimeException | java.io.IOException e) {
                process.destroyForcibly();
                throw e;
            }
        }

        /** accepted, rejected, issued. */
        long[] stats() throws Exception {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/stats")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return Stream.of(r.body().trim().split(" ")).mapToLong(Long::parseLong).toArray();
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private static void assertPostBodyIntact(RecordingHttpServer server) throws Exception {
        CaptureFixture.Expected post = http.expected.stream().filter(e -> e.method().equals("POST")).findFirst().orElseThrow();
        RecordingHttpServer.Request posted = server.requests.stream().filter(r -> r.method().equals("POST"))
                .findFirst().orElseThrow();
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(posted.body())))
                .isEqualTo(post.bodySha256());
    }
}
