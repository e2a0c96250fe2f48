package dev.trafficbus.replay.tcp;

import dev.trafficbus.replay.CaptureFixture;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.session.Conversation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The answer rules of the tcp engine against real servers in the test namespace (root, namespaces, real
 * intercept): with intercept relaying the answers' payload, nginx answers of other sizes than production's
 * (Content-Length, HEAD, pipelined, keep-alive) and a captured redis session (testdata/redis-sessions.pcap,
 * pipelined commands) end by their framing; with headers only, the same replay falls back to silence, and
 * says so in its counts.
 */
@Timeout(180)
class TcpAnswerRulesTest extends TcpNetTest {
    private static final int PAYLOAD_INTERCEPT_PORT = 36530;

    @BeforeAll
    void startPayloadIntercept() throws Exception {
        net.startPayloadIntercept(PAYLOAD_INTERCEPT_PORT);
    }

    private static String get(String method, String path, String... headers) {
        StringBuilder b = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: t\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    /** Two keep-alive sessions of 4 messages (one of them 3 pipelined requests); production answered 3000 bytes each. */
    private List<PcapFixture.Packet> httpCapture(String tag) {
        byte[] production = new byte[3000];
        List<PcapFixture.Packet> out = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            Conversation c = new Conversation("10.6.0.2", 45000 + s, "10.6.0.1", 80, 11L + s, 77L + s,
                    1_000_000 + s * 1000L).handshake();
            c.clientSends(get("GET", "/" + tag + "?i=" + s + "1")).serverSends(production, 1460);
            c.clientSends(get("HEAD", "/" + tag + "?i=" + s + "2")).serverSends(production, 1460);
            c.clientSends(get("GET", "/" + tag + "?i=" + s + "3") + get("HEAD", "/" + tag + "?i=" + s + "4")
                    + get("GET", "/" + tag + "?i=" + s + "5")).serverSends(production, 1460);
            c.clientSends(get("GET", "/" + tag + "?i=" + s + "6")).serverSends(production, 1460);
            for (Conversation.Packet p : c.clientFin().serverFin().clientAck().packets()) {
                out.add(new PcapFixture.Packet(p.tsMicros(), p.bytes(), p.clientToServer()));
            }
        }
        return out;
    }

    @Test
    void withPayloadRelayedHttpAnswersOfOtherSizesEndByFraming() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, httpCapture("framed"), 0);
        ReplayTuning tuning = ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2));

        ReplaySummary s = replay(topic, 80, tuning, PAYLOAD_INTERCEPT_PORT, 11);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(2);
        assertThat(s.messagesSent()).isEqualTo(8);
        assertThat(s.messagesAnswered()).isEqualTo(8);
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(8);
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(s.answersJudged("timeout")).isZero();
        long uris = net.accessLog().stream().filter(l -> l.contains(" /framed?i=")).count();
        assertThat(uris).isEqualTo(12);
        // Eight answers, each judged at once: far less than one 2 s quiet period each.
        assertThat(s.seconds()).as(s.summaryLine()).isLessThan(8 * 2.0);
    }

    @Test
    void withHeadersOnlyTheSameReplayFallsBackToSilenceAndCountsIt() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, httpCapture("unframed"), 0);
        ReplayTuning tuning = ReplayTuning.defaults().withQuietPeriod(Duration.ofMillis(100));

        ReplaySummary s = replay(topic, 80, tuning, TcpTestNet.INTERCEPT_PORT, 12);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(2);
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isZero();
        assertThat(s.answersJudged("silence")).as("answers of another size than captured, unseen")
                .isEqualTo(8);
    }

    @Test
    void aCapturedRedisSessionEndsEachAnswerByFraming() throws Exception {
        Map<String, String> expected = new HashMap<>();
        for (String line : Files.readAllLines(CaptureFixture.testdata().resolve("redis-sessions.expected"))) {
            String[] f = line.split(" ", 2);
            expected.put(f[0], f[1]);
        }
        List<PcapFixture.Packet> packets = PcapFixture.read(CaptureFixture.testdata().resolve("redis-sessions.pcap"),
                Integer.parseInt(expected.get("port")));
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, packets, 0);
        net.startRedis();

        ReplaySummary s = replay(topic, 6379, ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2)),
                PAYLOAD_INTERCEPT_PORT, 13);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(s.sessionsSeen());
        assertThat(s.sessionsSeen()).isGreaterThanOrEqualTo(7);
        assertThat(s.answersJudged("framing")).as(s.summaryLine()).isEqualTo(s.messagesSent());
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(net.redisCli("GET", "counter")).isEqualTo(expected.get("counter"));
        assertThat(net.redisCli("LLEN", "list")).isEqualTo(expected.get("list-length"));
        assertThat(net.redisCli("GET", "key:39")).isEqualTo(expected.get("key:39"));
    }

    private ReplaySummary replay(String topic, int port, ReplayTuning tuning, int interceptPort, int instance) {
        return run(request(topic, port, ReplaySpeed.MAX), tuning.withDrainTimeout(Duration.ofSeconds(20)),
                ReplayOptions.defaults(), options(instance, interceptPort));
    }
}
