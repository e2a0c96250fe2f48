package dev.trafficbus.replay;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.replay.http.HttpRewriteRules;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.socket.SocketReplay;
import dev.trafficbus.report.ReportInBrowser;
import dev.trafficbus.session.Conversation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Archive replay against a real broker and a real HTTP server, from a real capture (testdata/http-sessions.pcap,
 * tcpdump of curl against nginx) published as the forwarder does: time windows, HTTP rewrites and response
 * records, sharing by group, resuming after a stop, amplification copies.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ArchiveReplayTest {
    private static TestKafkaCluster kafka;
    private static CaptureFixture http;

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

    private static void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    private static Properties config() {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        return p;
    }

    private static String iso(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L).toString();
    }

    private static Map<String, Long> count(List<String> paths) {
        return new TreeMap<>(paths.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting())));
    }

    @Test
    void aWindowReplaysExactlyTheSessionsThatStartInsideIt(@TempDir Path dir) throws Exception {
        String topic = "tb.capture.window";
        createTopic(topic, 3);
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        List<Map.Entry<Integer, Long>> syns = new ArrayList<>(http.synTimes().entrySet());
        assertThat(syns).hasSize(16);
        // Sessions 9 to 12 (two short ones, two keep-alive ones): from the SYN of the 9th to the middle of the
        // 12th, which began inside and is therefore replayed whole.
        long from = syns.get(8).getValue();
        int twelfth = syns.get(11).getKey();
        long twelfthEnd = http.packets.stream().filter(p -> p.clientPort() == twelfth)
                .mapToLong(CaptureFixture.Packet::micros).max().orElseThrow();
        long to = (syns.get(11).getValue() + twelfthEnd) / 2;
        assertThat(http.expected.stream().filter(e -> e.clientPort() == twelfth).count()).isGreaterThan(1);
        List<Integer> inside = syns.subList(8, 12).stream().map(Map.Entry::getKey).toList();
        List<String> expected = http.expected.stream().filter(e -> inside.contains(e.clientPort()))
                .map(CaptureFixture.Expected::path).toList();
        assertThat(expected).hasSizeGreaterThan(4);

        try (RecordingHttpServer server = new RecordingHttpServer()) {
            Path report = dir.resolve("window.json");
            CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", topic,
                    "--target", TargetAddress.show(server.address()), "--bootstrap-servers", kafka.bootstrapServers(),
                    "--from", iso(from), "--to", iso(to), "--speed", "max", "--group", "window",
                    "--report", report.toString());
            assertThat(o.exitCode()).as(o.err()).isZero();
            assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path).toList()))
                    .isEqualTo(count(expected));
            JsonNode ledger = new ObjectMapper().readTree(report.toFile()).path("ledger");
            assertThat(ledger.path("inWindow").asLong()).isEqualTo(4);
            assertThat(ledger.path("replayed").asLong()).isEqualTo(4);
            assertThat(ledger.path("answered").asLong()).isEqualTo(4);
            assertThat(ledger.path("continuedAfterWindowEnd").asLong()).isEqualTo(1);
            // Every session read but not replayed is accounted for by a reason.
            long leftOut = 0;
            for (JsonNode n : ledger.path("leftOutByReason")) {
                leftOut += n.asLong();
            }
            assertThat(ledger.path("captured").asLong()).isEqualTo(4 + leftOut);
        }
    }

    @Test
    void aSessionWhoseRecordComesLateAfterTheWindowEndIsStillReplayed(@TempDir Path dir) throws Exception {
        String topic = "tb.capture.late";
        createTopic(topic, 1);
        long t = (System.currentTimeMillis() - 60_000) * 1000L;
        long to = t + 1_000_000;
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            int answer = server.answerSize();
            // a and b start inside the window, c 1 ms after its end, d well after. b's first record was still being
            // batched when c's, closed at once by its FIN, went out: the first record past the end precedes b's.
            List<CaptureBatcher.Record> a = session(53000, t, "a", answer);
            List<CaptureBatcher.Record> b = session(53001, to - 3_000, "b", answer);
            List<CaptureBatcher.Record> c = session(53002, to + 1_000, "c", answer);
            List<CaptureBatcher.Record> d = session(53003, to + 2_000_000, "d", answer);
            List<CaptureBatcher.Record> records = new ArrayList<>(a);
            records.add(c.get(0));
            records.addAll(b);
            records.addAll(c.subList(1, c.size()));
            records.addAll(d);
            TestKafka.publishAtCaptureTime(kafka.bootstrapServers(), topic, records);

            Path report = dir.resolve("late.json");
            CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", topic,
                    "--target", TargetAddress.show(server.address()), "--bootstrap-servers", kafka.bootstrapServers(),
                    "--from", iso(t), "--to", iso(to), "--speed", "max", "--group", "late", "--report", report.toString(),
                    // One record per poll: reading must not stop at the first record past the end, c's.
                    "--kafka-property", "max.poll.records=1");
            assertThat(o.exitCode()).as(o.err()).isZero();
            assertThat(server.requests).extracting(RecordingHttpServer.Request::path)
                    .containsExactlyInAnyOrder("/late/a", "/late/b");
            JsonNode ledger = new ObjectMapper().readTree(report.toFile()).path("ledger");
            assertThat(ledger.path("inWindow").asLong()).isEqualTo(2);
            assertThat(ledger.path("replayed").asLong()).isEqualTo(2);
        }
    }

    /** One short HTTP session on client port {@code port} begun at {@code startMicros}, cut as a forwarder does. */
    private static List<CaptureBatcher.Record> session(int port, long startMicros, String name, int answer) {
        List<Conversation.Packet> p = new Conversation("10.1.0.2", port, "10.1.0.1", 80, port * 7919L, port * 104729L,
                startMicros).handshake().clientSends("GET /late/" + name + " HTTP/1.1\r\nHost: t\r\n\r\n")
                .serverSends(new byte[answer], 1460).clientFin().serverFin().clientAck()
                .packets();
        return CaptureBatcher.group(p.stream().map(x -> new CaptureBatcher.Packet(x.tsMicros(), x.clientToServer(),
                x.bytes())).toList(), CaptureBatcher.DEFAULT_MAX_PACKETS);
    }

    @Test
    void rewritesReachTheServerAndResponseRecordsFollowTheFormat(@TempDir Path dir) throws Exception {
        String topic = "tb.capture.web1";
        createTopic(topic, 3);
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            Path report = dir.resolve("run.html");
            CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", topic,
                    "--target", TargetAddress.show(server.address()), "--bootstrap-servers", kafka.bootstrapServers(),
                    "--until-end", "--speed", "max", "--group", "rewrites",
                    "--http-set-header", "X-Replay: 1", "--http-remove-header", "User-Agent",
                    "--http-rewrite-url", "^/s1([0-9])/=/v2/s1$1/", "--http-host", "staging.internal",
                    "--capture-responses", "--run", "rw1", "--report", report.toString());
            assertThat(o.exitCode()).as(o.err()).isZero();
            assertThat(o.out()).contains("run rw1; responses in tb.responses.rw1");

            List<String> expectedPaths = http.expected.stream()
                    .map(e -> e.path().replaceFirst("^/s1([0-9])/", "/v2/s1$1/")).toList();
            assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path).toList()))
                    .isEqualTo(count(expectedPaths));
            for (RecordingHttpServer.Request r : server.requests) {
                assertThat(r.header("X-Replay")).as(r.path()).isEqualTo("1");
                assertThat(r.header("User-Agent")).as(r.path()).isNull();
                assertThat(r.header("Host")).as(r.path()).isEqualTo("staging.internal");
            }
            CaptureFixture.Expected post = http.expected.stream().filter(e -> e.method().equals("POST")).findFirst().orElseThrow();
            RecordingHttpServer.Request posted = server.requests.stream().filter(r -> r.method().equals("POST"))
                    .findFirst().orElseThrow();
            assertThat(posted.body()).hasSize((int) post.bodyBytes());
            assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(posted.body())))
                    .isEqualTo(post.bodySha256());

            List<JsonNode> records = readAll("tb.responses.rw1", expectedPaths.size());
            assertThat(records).hasSize(expectedPaths.size());
            Map<String, List<JsonNode>> bySession = records.stream()
                    .collect(Collectors.groupingBy(n -> n.path("session").asText()));
            for (JsonNode n : records) {
                assertThat(n.path("run").asText()).isEqualTo("rw1");
                assertThat(n.path("source").asText()).isEqualTo("web1");
                assertThat(n.path("copy").asInt()).isZero();
                assertThat(n.path("session").asText()).matches(".+:\\d+ -> 10\\.77\\.0\\.1:8080#0");
                assertThat(n.path("key").asText()).isEqualTo(n.path("session").asText());
                String url = n.path("request").path("url").asText();
                assertThat(n.path("endpoint").asText()).isEqualTo(n.path("request").path("method").asText() + " " + url);
                assertThat(n.path("request").path("headers").toString()).contains("[\"X-Replay\",\"1\"]")
                        .contains("[\"Host\",\"staging.internal\"]").doesNotContain("User-Agent");
                assertThat(n.path("replayed").path("status").asInt()).isEqualTo(200);
                assertThat(n.path("replayed").path("latencyMicros").asLong()).isNotNegative();
                assertThat(n.path("production").path("status").asInt()).as("production answer of " + url).isEqualTo(200);
                assertThat(new String(java.util.Base64.getDecoder().decode(n.path("production").path("bodyBase64").asText()),
                        StandardCharsets.UTF_8)).contains("ok");
                assertThat(n.path("error").isNull()).isTrue();
                assertThat(n.path("capturedAtMicros").asLong()).isBetween(http.packets.get(0).micros(),
                        http.packets.get(http.packets.size() - 1).micros());
            }
            for (List<JsonNode> session : bySession.values()) {
                List<Integer> indexes = session.stream().map(n -> n.path("index").asInt()).sorted().toList();
                assertThat(indexes).isEqualTo(java.util.stream.IntStream.range(0, session.size()).boxed().toList());
            }
            JsonNode post1 = records.stream().filter(n -> n.path("request").path("method").asText().equals("POST"))
                    .findFirst().orElseThrow();
            assertThat(java.util.Base64.getDecoder().decode(post1.path("request").path("bodyBase64").asText()))
                    .isEqualTo(posted.body());

            // The report: an HTML page and the JSON beside it, and the ledger on tb.runs.
            assertThat(Files.readString(report)).startsWith("<!DOCTYPE html>").contains("Loss ledger").contains("<svg");
            JsonNode json = new ObjectMapper().readTree(dir.resolve("run.json").toFile());
            assertThat(json.path("ledger").path("responseRecords").path("published").asLong()).isEqualTo(expectedPaths.size());
            assertThat(json.path("timeline").path("statusCodes").path("200").asLong()).isEqualTo(expectedPaths.size());
            assertThat(json.path("runRecord").asText()).isEqualTo("published to tb.runs");
            List<JsonNode> runs = readAll("tb.runs", 1);
            assertThat(runs).anyMatch(n -> n.path("key").asText().equals("rw1")
                    && n.path("ledger").path("replayed").asLong() == 16);
            ReportInBrowser.assertOpensWithoutErrors(report, Path.of("target", "replay-report.png"));
        }
    }

    private static List<JsonNode> readAll(String topic, int expected) throws Exception {
        return TestKafka.readJson(kafka.bootstrapServers(), topic, expected);
    }

    @Test
    void twoReplayersInOneGroupTogetherReplayEverySessionOnce() throws Exception {
        String topic = "tb.capture.shared";
        createTopic(topic, 3);
        try (RecordingHttpServer server = new RecordingHttpServer();
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            // Both members follow the topic; the capture arrives once the group has split the partitions.
            ReplayRequest r = new ReplayRequest(topic, config(), server.address(), ReplaySpeed.MAX, "shared", false, false);
            SocketReplay a = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults());
            SocketReplay b = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults());
            CompletableFuture<ReplaySummary> fa = CompletableFuture.supplyAsync(a::run);
            CompletableFuture<ReplaySummary> fb = CompletableFuture.supplyAsync(b::run);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                while (System.nanoTime() < deadline && !splitBetweenTwo(admin, "shared")) {
                    Thread.sleep(100);
                }
                assertThat(splitBetweenTwo(admin, "shared")).as("both members got partitions").isTrue();
                http.publish(kafka.bootstrapServers(), topic, "web1", 1);
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (server.requests.size() < http.expected.size() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                Thread.sleep(500); // a duplicate would arrive now
            } finally {
                a.stop();
                b.stop();
            }
            ReplaySummary sa = fa.get(30, TimeUnit.SECONDS);
            ReplaySummary sb = fb.get(30, TimeUnit.SECONDS);
            System.out.printf("group: member a %s%nmember b %s%n", sa.summaryLine(), sb.summaryLine());
            assertThat(sa.sessionsReplayed() + sb.sessionsReplayed()).as(sa.summaryLine() + " / " + sb.summaryLine())
                    .isEqualTo(16);
            assertThat(sa.sessionsReplayed()).as("member a did a share").isPositive();
            assertThat(sb.sessionsReplayed()).as("member b did a share").isPositive();
            assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path).toList()))
                    .isEqualTo(count(http.expected.stream().map(CaptureFixture.Expected::path).toList()));
        }
    }

    private static boolean splitBetweenTwo(Admin admin, String group) throws InterruptedException {
        try {
            var d = admin.describeConsumerGroups(List.of(group)).all().get(3, TimeUnit.SECONDS).get(group);
            return d.members().size() == 2
                    && d.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false; // the group coordinator is still loading: ask again
        }
    }

    @Test
    void aStoppedReplayerResumesWithoutLosingSessions() throws Exception {
        String topic = "tb.capture.resume";
        createTopic(topic, 3);
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            ReplayRequest r = new ReplayRequest(topic, config(), server.address(), ReplaySpeed.MAX, "resume", true, false);
            SocketReplay first = new SocketReplay(r, ReplayTuning.defaults().withDrainTimeout(Duration.ofMillis(300)),
                    ReplayOptions.defaults().withRate(new ReplayRate(4, false)));
            CompletableFuture<ReplaySummary> running = CompletableFuture.supplyAsync(first::run);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (server.requests.size() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            first.stop();
            ReplaySummary s1 = running.get(30, TimeUnit.SECONDS);
            int afterFirst = server.requests.size();
            assertThat(s1.sessionsReplayed()).as(s1.summaryLine()).isBetween(1L, 15L);

            SocketReplay second = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults());
            ReplaySummary s2 = second.run();
            Map<String, Long> got = count(server.requests.stream().map(RecordingHttpServer.Request::path).toList());
            Map<String, Long> want = count(http.expected.stream().map(CaptureFixture.Expected::path).toList());
            assertThat(got.keySet()).as("every request replayed at least once").isEqualTo(want.keySet());
            long duplicates = server.requests.size() - http.expected.size();
            System.out.printf("resume: first run %d requests (%s), second run %s; duplicate requests: %d%n",
                    afterFirst, s1.summaryLine(), s2.summaryLine(), duplicates);
            // Only sessions cut by the stop may be replayed again, and each of them holds at most 5 requests.
            long cut = s1.problemsByReason().getOrDefault("interrupted", 0L);
            assertThat(duplicates).isBetween(0L, 5 * cut);
            assertThat(s1.sessionsReplayed() + s2.sessionsReplayed()).isBetween(16L, 16L + cut);
        }
    }

    @Test
    void aKilledReplayerLosesNoSessionWhenRestarted(@TempDir Path dir) throws Exception {
        String topic = "tb.capture.killed";
        createTopic(topic, 3);
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            Path log = dir.resolve("child.log");
            // A separate JVM, killed with SIGKILL mid-run: no drain, no final commit.
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), ReplayMain.class.getName(),
                    "--topic", topic, "--target", TargetAddress.show(server.address()),
                    "--bootstrap-servers", kafka.bootstrapServers(), "--speed", "max", "--rate", "3/s",
                    "--until-end", "--group", "killed",
                    // so the restarted member need not wait 45 s for the dead one to leave the group
                    "--kafka-property", "session.timeout.ms=6000")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                while (server.requests.size() < 8 && child.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(child.isAlive()).as(Files.readString(log)).isTrue();
            } finally {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            int beforeKill = server.requests.size();
            ReplayRequest r = new ReplayRequest(topic, config(), server.address(), ReplaySpeed.MAX, "killed", true, false);
            ReplaySummary s2 = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults()).run();
            Map<String, Long> got = count(server.requests.stream().map(RecordingHttpServer.Request::path).toList());
            Map<String, Long> want = count(http.expected.stream().map(CaptureFixture.Expected::path).toList());
            assertThat(got.keySet()).as("every request replayed at least once").isEqualTo(want.keySet());
            long duplicates = server.requests.size() - http.expected.size();
            System.out.printf("killed: %d requests before SIGKILL; restart %s; duplicate requests: %d%n",
                    beforeKill, s2.summaryLine(), duplicates);
            // At-least-once: what the killed one did after its last commit is done again, nothing more.
            assertThat(duplicates).isBetween(0L, (long) beforeKill);
        }
    }

    @Test
    void amplificationCopiesAreSessionsOfTheirOwn() throws Exception {
        CaptureFixture paced = CaptureFixture.load("paced-sessions");
        String topic = "tb.sub.copies";
        createTopic(topic, 2);
        paced.publish(kafka.bootstrapServers(), topic, "web1", 3);
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            ReplayRequest r = new ReplayRequest(topic, config(), server.address(), ReplaySpeed.MAX, null, true, false);
            ReplaySummary s = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults()).run();
            assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(3L * paced.expected.size());
            Map<String, List<RecordingHttpServer.Request>> byPath = server.requests.stream()
                    .collect(Collectors.groupingBy(RecordingHttpServer.Request::path));
            assertThat(byPath).hasSize(paced.expected.size());
            for (List<RecordingHttpServer.Request> copies : byPath.values()) {
                assertThat(copies.stream().map(RecordingHttpServer.Request::clientPort).distinct()).hasSize(3);
            }
        }
    }

    @Test
    void aLoopReplaysTheRangeAgain() throws Exception {
        CaptureFixture paced = CaptureFixture.load("paced-sessions");
        String topic = "tb.capture.loop";
        createTopic(topic, 2);
        paced.publish(kafka.bootstrapServers(), topic, "web1", 1);
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            ReplayRequest r = new ReplayRequest(topic, config(), server.address(), ReplaySpeed.MAX, null, true, false);
            ReplaySummary s = new SocketReplay(r, ReplayTuning.defaults(), ReplayOptions.defaults().withLoops(3)).run();
            assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(3L * paced.expected.size());
            Map<String, Long> want = new TreeMap<>();
            paced.expected.forEach(e -> want.merge(e.path(), 3L, Long::sum));
            assertThat(count(server.requests.stream().map(RecordingHttpServer.Request::path).toList())).isEqualTo(want);
        }
    }

    @Test
    void httpRulesAreCheckedWhenGiven() {
        HttpRewriteRules rules = HttpRewriteRules.none();
        assertThat(rules.isEmpty()).isTrue();
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--http-rewrite-url", "([=x");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("trafficbus replay: --http-rewrite-url");
    }
}
