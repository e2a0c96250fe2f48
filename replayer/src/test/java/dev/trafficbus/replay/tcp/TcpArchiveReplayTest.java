package dev.trafficbus.replay.tcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayCommand;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.TestKafka;
import dev.trafficbus.replay.http.HttpRewriteRules;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.intake.ReplayWindow;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tcp engine with the shared intake's archive features, end to end as in {@link TcpReplayTest} (real
 * captures, real broker, real nginx and intercept in namespaces): a capture-time window, a rate cap, loops, an
 * HTTP rewrite that changes the requests' length, response records with the HTML report, and a stop mid-run
 * followed by a restart of the same group that loses no session.
 */
@Timeout(120)
class TcpArchiveReplayTest extends TcpNetTest {
    private static final int PAYLOAD_INTERCEPT_PORT = TcpTestNet.INTERCEPT_PORT + 5;
    private List<PcapFixture.Packet> shortPackets;

    @BeforeAll
    void readFixture() throws Exception {
        shortPackets = PcapFixture.read("http-short.pcap", 80);
    }

    /** One captured session: when its SYN was captured and the request URIs it holds, in order. */
    record Captured(long synMicros, int clientPort, List<String> uris, List<Integer> requestLengths) {
    }

    @Test
    void aWindowReplaysExactlyTheSessionsThatStartInsideIt() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, shortPackets, 0);
        List<Captured> sessions = sessions(shortPackets);
        assertThat(sessions).hasSize(20);
        // From the 6th session's SYN (inclusive) to the 11th's (exclusive): sessions 6 to 10.
        ReplayWindow window = new ReplayWindow(instant(sessions.get(5).synMicros()), instant(sessions.get(10).synMicros()));
        Set<String> expected = new HashSet<>();
        sessions.subList(5, 10).forEach(c -> expected.addAll(c.uris()));

        ReplaySummary s = replay(topic, ReplaySpeed.MAX, ReplayOptions.defaults().withWindow(window), options(0),
                ReplayTuning.defaults());

        assertThat(s.sessionsSeen()).as(s.summaryLine()).isEqualTo(5);
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(5);
        assertThat(countUris(net.accessLog())).containsOnlyKeys(expected);
        assertThat(countUris(net.accessLog()).values()).containsOnly(1);
    }

    @Test
    void aRateCapSpacesTheSessionStarts() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, shortPackets, 0);

        long t0 = System.nanoTime();
        ReplaySummary s = replay(topic, ReplaySpeed.MAX, ReplayOptions.defaults().withRate(new ReplayRate(10, false)),
                options(14), ReplayTuning.defaults());
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(20);
        // 20 starts at 10 per second: the last one no earlier than 1.9 s after the first.
        assertThat(seconds).as("run time of 20 sessions at 10/s").isGreaterThanOrEqualTo(1.9);
        Map<String, Integer> uris = countUris(net.accessLog());
        for (int i = 1; i <= 20; i++) {
            assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i).isEqualTo(1);
        }
    }

    @Test
    void aLoopReplaysTheRangeAgainAndTheMetricsCountIt() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, shortPackets, 0);

        try (MetricsEndpoint metrics = new MetricsEndpoint("replay")) {
            ReplaySummary s = replay(topic, ReplaySpeed.MAX, ReplayOptions.defaults().withLoops(3).withMetrics(metrics),
                    options(0), ReplayTuning.defaults());

            assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(60);
            Map<String, Integer> uris = countUris(net.accessLog());
            for (int i = 1; i <= 20; i++) {
                assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i).isEqualTo(3);
            }
            String text = metrics.scrape();
            assertThat(text).contains("trafficbus_replay_sessions_replayed_total 60.0")
                    .contains("trafficbus_replay_requests_answered_total 60.0")
                    .containsPattern("trafficbus_replay_tcp_packets_sent_total [1-9]")
                    .containsPattern("trafficbus_replay_tcp_packets_relayed_total [1-9]");
        }
    }

    @Test
    void aRewriteThatLengthensEveryRequestOfAKeepAliveSessionIsReplayedWhole() throws Exception {
        String topic = topic();
        List<PcapFixture.Packet> keep = PcapFixture.read("http-keepalive.pcap", 80);
        PcapFixture.publish(kafka.bootstrapServers(), topic, keep, 0);
        Captured captured = sessions(keep).get(0);
        assertThat(captured.uris()).hasSize(10);
        HttpRewriteRules rules = HttpRewriteRules.none();
        rules.rewriteUrl("^/keep=/a-much-longer-path/keep");
        rules.setHeader("X-Replay: yes");

        ReplaySummary s = replay(topic, ReplaySpeed.MAX, ReplayOptions.defaults().withHttp(rules), options(14),
                ReplayTuning.defaults());

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(1);
        assertThat(s.messagesSent()).isEqualTo(10);
        assertThat(s.messagesAnswered()).isEqualTo(10);
        List<String> log = net.accessLog();
        assertThat(log).hasSize(10);
        // Every request arrived rewritten and whole: nginx counts the same number of added bytes in each, so the
        // sequence numbers of the later requests moved with the longer earlier ones.
        Set<Integer> added = new HashSet<>();
        for (int k = 0; k < 10; k++) {
            String[] f = log.get(k).split(" ");
            assertThat(f[1]).isEqualTo(captured.uris().get(k).replaceFirst("^/keep", "/a-much-longer-path/keep"));
            added.add(Integer.parseInt(f[2]) - captured.requestLengths().get(k));
        }
        assertThat(added).hasSize(1);
        assertThat(added.iterator().next()).isGreaterThanOrEqualTo("/a-much-longer-path".length() + "X-Replay: yes".length());
        assertThat(s.problemsByReason()).doesNotContainKeys("response-timeout", "target-reset", "target-closed");
    }

    @Test
    void responseRecordsAndTheHtmlReportComeFromTheCommand(@TempDir Path dir) throws Exception {
        net.startPayloadIntercept(PAYLOAD_INTERCEPT_PORT);
        try {
            String topic = topic();
            PcapFixture.publish(kafka.bootstrapServers(), topic, shortPackets, 0);
            Path report = dir.resolve("tcp.html");
            CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", topic,
                    "--target", TcpTestNet.TEST_IP + ":80", "--bootstrap-servers", kafka.bootstrapServers(),
                    "--engine", "tcp", "--client-range", TcpTestNet.CLIENT_RANGE,
                    "--intercept", TcpTestNet.INTERCEPT_IP + ":" + PAYLOAD_INTERCEPT_PORT,
                    "--token-file", net.token.toString(), "--instance", "0", "--handshake-timeout", "15s",
                    "--until-end", "--speed", "max", "--group", "g-" + topic, "--http-set-header", "X-Replay: 1",
                    "--capture-responses", "--run", "tcprr", "--report", report.toString());
            assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
            assertThat(o.out()).contains("replayed 20 of 20 sessions").contains("responses in tb.responses.tcprr");

            List<JsonNode> records = TestKafka.readJson(kafka.bootstrapServers(), "tb.responses.tcprr", 20);
            assertThat(records).hasSize(20);
            Set<String> urls = new HashSet<>();
            for (JsonNode n : records) {
                urls.add(n.path("request").path("url").asText());
                assertThat(n.path("run").asText()).isEqualTo("tcprr");
                assertThat(n.path("request").path("headers").toString()).contains("[\"X-Replay\",\"1\"]");
                assertThat(n.path("replayed").path("status").asInt()).as(n.toString()).isEqualTo(200);
                assertThat(n.path("production").path("status").asInt()).as(n.toString()).isEqualTo(200);
                assertThat(n.path("error").isNull()).as(n.toString()).isTrue();
            }
            assertThat(urls).hasSize(20);

            assertThat(Files.readString(report)).startsWith("<!DOCTYPE html>").contains("Loss ledger").contains("<svg");
            JsonNode json = new ObjectMapper().readTree(dir.resolve("tcp.json").toFile());
            assertThat(json.path("ledger").path("engine").path("name").asText()).isEqualTo("tcp");
            assertThat(json.path("ledger").path("replayed").asLong()).isEqualTo(20);
            assertThat(json.path("ledger").path("answered").asLong()).isEqualTo(20);
            assertThat(json.path("ledger").path("responseRecords").path("published").asLong()).isEqualTo(20);
            assertThat(json.path("timeline").path("statusCodes").path("200").asLong()).isEqualTo(20);
        } finally {
            net.stopExtraIntercepts();
        }
    }

    @Test
    void aReplayerStoppedMidRunResumesWithoutLosingSessions() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, shortPackets, 0);
        // A quarter of the captured pace: the 1.25 s capture takes 5 s, so the stop comes mid-run. No drain time:
        // what runs at the stop is cut off, as a crash would leave it.
        ReplayTuning noDrain = ReplayTuning.defaults().withDrainTimeout(Duration.ofMillis(1));
        TcpReplay first = new TcpReplay(request(topic, 80, new ReplaySpeed(0.25)), noDrain, ReplayOptions.defaults(),
                options(0));
        CompletableFuture<ReplaySummary> running = CompletableFuture.supplyAsync(first::run);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (net.accessLog().size() < 6 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        first.stop();
        ReplaySummary s1 = running.get(30, TimeUnit.SECONDS);
        System.out.println("tcp first run: " + s1.summaryLine());
        assertThat(s1.sessionsReplayed()).as(s1.summaryLine()).isBetween(1L, 19L);

        ReplaySummary s2 = replay(topic, ReplaySpeed.MAX, ReplayOptions.defaults(), options(14), ReplayTuning.defaults());

        Map<String, Integer> uris = countUris(net.accessLog());
        for (int i = 1; i <= 20; i++) {
            assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i + " replayed at least once").isPositive();
        }
        // At-least-once: only what the stop cut off (or was not yet committed) is replayed again.
        long duplicates = net.accessLog().size() - 20;
        System.out.printf("tcp resume: second run %s; duplicate requests: %d%n", s2.summaryLine(), duplicates);
        assertThat(s1.sessionsReplayed() + s2.sessionsReplayed()).isGreaterThanOrEqualTo(20);
        assertThat(duplicates).isBetween(0L, s1.sessionsReplayed() + s1.problemsByReason().getOrDefault("interrupted", 0L));
    }

    private ReplaySummary replay(String topic, ReplaySpeed speed, ReplayOptions options, TcpEngineOptions tcp,
                                 ReplayTuning tuning) {
        return run(request(topic, 80, speed), tuning, options, tcp);
    }

    private static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    /** The captured sessions in SYN order, each with its request URIs and request lengths (one request per segment run). */
    private static List<Captured> sessions(List<PcapFixture.Packet> packets) {
        Map<Integer, Captured> byPort = new LinkedHashMap<>();
        Map<Integer, StringBuilder> streams = new HashMap<>();
        PacketView v = new PacketView();
        for (PcapFixture.Packet p : packets) {
            v.wrap(p.ip(), 0, p.ip().length);
            if (!p.clientToServer()) {
                continue;
            }
            int port = v.srcPort();
            if (v.hasFlag(PacketView.SYN)) {
                byPort.put(port, new Captured(p.tsMicros(), port, new ArrayList<>(), new ArrayList<>()));
            }
            if (v.payloadLength() > 0) {
                streams.computeIfAbsent(port, k -> new StringBuilder()).append(new String(p.ip(), v.payloadOffset(),
                        v.payloadLength(), StandardCharsets.ISO_8859_1));
            }
        }
        for (Captured c : byPort.values()) {
            String stream = streams.getOrDefault(c.clientPort(), new StringBuilder()).toString();
            // GET requests without bodies: each ends with an empty line.
            for (String request : stream.split("(?<=\r\n\r\n)")) {
                if (request.isEmpty()) {
                    continue;
                }
                c.uris().add(request.substring(request.indexOf(' ') + 1, request.indexOf(' ', request.indexOf(' ') + 1)));
                c.requestLengths().add(request.length());
            }
        }
        return new ArrayList<>(byPort.values());
    }
}
