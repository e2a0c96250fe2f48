package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tcp engine end to end: real captures (tcpdump fixtures) published to a real Kafka broker, replayed as
 * raw packets from fake client addresses into real nginx / redis-server in another namespace, answers
 * relayed by the real intercept from a third namespace.
 */
@Timeout(120)
class TcpReplayTest extends TcpNetTest {

    @Test
    void shortAndKeepAliveHttpSessionsReachTheServerOnceFromTheClientRange() throws Exception {
        String topic = topic();
        List<PcapFixture.Packet> shortPackets = PcapFixture.read("http-short.pcap", 80);
        List<PcapFixture.Packet> keepPackets = PcapFixture.read("http-keepalive.pcap", 80);
        int records = PcapFixture.publish(kafka.bootstrapServers(), topic, shortPackets, 0)
                + PcapFixture.publish(kafka.bootstrapServers(), topic, keepPackets, 0);
        int packets = shortPackets.size() + keepPackets.size();
        assertThat(records).as("several packets per record").isLessThan(packets / 2);
        long rxBefore = TcpTestNet.replayerRxPackets();

        ReplaySummary s = replay(topic, 80, ReplaySpeed.MAX, options(1));

        assertThat(s.sessionsSeen()).isEqualTo(21);
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(21);
        assertThat(s.sessionsFailed()).isZero();
        assertThat(s.messagesSent()).isEqualTo(30);
        assertThat(s.messagesAnswered()).isEqualTo(30);
        assertThat(s.recordsConsumed()).isEqualTo(records);
        assertThat(s.packetsConsumed()).isEqualTo(packets);
        assertThat(s.packetsSkipped()).isZero();
        Map<String, Integer> uris = countUris(net.accessLog());
        for (int i = 1; i <= 20; i++) {
            assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i).isEqualTo(1);
        }
        for (int i = 1; i <= 10; i++) {
            assertThat(uris.get("/keep?i=" + i)).as("/keep?i=" + i).isEqualTo(1);
        }
        assertThat(uris.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(30);
        for (String line : net.accessLog()) {
            assertThat(line).startsWith("10.99.");
        }
        // Answers went to the assist host; at most a few ARP packets came back to the replayer.
        assertThat(TcpTestNet.replayerRxPackets() - rxBefore).isLessThan(10);
    }

    @Test
    void redisCounterIncrementedNTimesReadsN() throws Exception {
        net.startRedis();
        String topic = topic();
        // One packet per record, as older forwarders published.
        List<PcapFixture.Packet> packets = PcapFixture.read("redis-incr.pcap", 6379);
        assertThat(PcapFixture.publish(kafka.bootstrapServers(), topic, packets, 0, 1)).isEqualTo(packets.size());

        ReplaySummary s = replay(topic, 6379, ReplaySpeed.MAX, options(2));

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(1);
        assertThat(net.redisCli("GET", "tb:counter")).isEqualTo("30");
    }

    @Test
    void captureStartedMidConnectionStillReplaysItsRequests() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-mid.pcap", 80), 0);

        ReplaySummary s = replay(topic, 80, ReplaySpeed.MAX, options(3));

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(1);
        Map<String, Integer> uris = countUris(net.accessLog());
        assertThat(uris).containsOnlyKeys("/mid?i=2", "/mid?i=3", "/mid?i=4");
        assertThat(uris.values()).containsOnly(1);
    }

    @Test
    void threeAmplifiedCopiesUseDistinctEndpointsWithoutResets() throws Exception {
        String topic = topic();
        List<PcapFixture.Packet> packets = PcapFixture.read("http-short.pcap", 80);
        for (int copy = 0; copy < 3; copy++) {
            PcapFixture.publish(kafka.bootstrapServers(), topic, packets, copy);
        }

        ReplaySummary s = replay(topic, 80, ReplaySpeed.MAX, options(4));

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(60);
        assertThat(s.problemsByReason()).doesNotContainKeys("target-reset", "connect-refused");
        List<String> log = net.accessLog();
        assertThat(log).hasSize(60);
        Set<String> endpoints = new HashSet<>();
        for (String line : log) {
            endpoints.add(line.substring(0, line.indexOf(' ')));
        }
        assertThat(endpoints).hasSize(60);
        Map<String, Integer> uris = countUris(log);
        for (int i = 1; i <= 20; i++) {
            assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i).isEqualTo(3);
        }
    }

    @Test
    void aMissingTokenIsRefusedWithAClearMessage() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-mid.pcap", 80), 0);
        TcpEngineOptions noToken = TcpEngineOptions.of(TcpTestNet.CLIENT_RANGE,
                List.of(TcpTestNet.INTERCEPT_IP + ":" + TcpTestNet.INTERCEPT_PORT), null, 5);

        assertThatThrownBy(() -> replay(topic, 80, ReplaySpeed.MAX, noToken))
                .isInstanceOf(UserInputException.class)
                .hasMessageStartingWith("intercept " + TcpTestNet.INTERCEPT_IP + ":" + TcpTestNet.INTERCEPT_PORT + " refused: ");
        assertThat(net.accessLog()).isEmpty();
    }

    @Test
    void aRunSurvivesAnInterceptRestart() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-short.pcap", 80), 0);
        Thread restarter = new Thread(() -> {
            try {
                Thread.sleep(2000);
                net.killIntercept();
                Thread.sleep(700);
                net.startIntercept();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        restarter.start();
        // 1.25 s of capture at a quarter of the speed: sessions start before, during and after the restart.
        ReplaySummary s = replay(topic, 80, new ReplaySpeed(0.25), options(6));
        restarter.join();

        assertThat(s.problemsByReason()).containsKey("intercept-disconnected");
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(20);
        Map<String, Integer> uris = countUris(net.accessLog());
        for (int i = 1; i <= 20; i++) {
            assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i).isEqualTo(1);
        }
    }

    @Test
    void ipv6TargetsAreReplayedFromTheIpv6Range() throws Exception {
        net.enableIpv6();
        try {
            String topic = topic();
            PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-short.pcap", 80), 0);
            TcpEngineOptions o = TcpEngineOptions.of(TcpTestNet.CLIENT_RANGE6,
                    List.of(TcpTestNet.INTERCEPT_IP + ":" + TcpTestNet.INTERCEPT_PORT), net.token.toFile(), 7);
            Properties c = new Properties();
            c.put("bootstrap.servers", kafka.bootstrapServers());
            ReplayRequest r = new ReplayRequest(topic, c, new InetSocketAddress(TcpTestNet.TEST_IP6, 80), ReplaySpeed.MAX,
                    "g-" + topic, true, false);
            ReplaySummary s = new TcpReplay(r, ReplayTuning.defaults(), o).run();
            System.out.println("tcp replay of " + topic + " over IPv6: " + s.summaryLine());

            assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(20);
            List<String> log = net.accessLog();
            assertThat(log).hasSize(20);
            for (String line : log) {
                assertThat(line).startsWith("fd99::");
            }
        } finally {
            net.disableIpv6();
        }
    }

    @Test
    void aRequestLargerThanTheMtuIsSplitAndArrivesWhole() throws Exception {
        String topic = topic();
        List<PcapFixture.Packet> packets = PcapFixture.read("http-post.pcap", 80);
        PcapFixture.publish(kafka.bootstrapServers(), topic, packets, 0);
        long requestBytes = 0;
        dev.trafficbus.packet.PacketView v = new dev.trafficbus.packet.PacketView();
        for (PcapFixture.Packet p : packets) {
            if (p.clientToServer()) {
                v.wrap(p.ip(), 0, p.ip().length);
                requestBytes += v.payloadLength();
            }
        }
        assertThat(requestBytes).isGreaterThan(5000);
        // The path really is this small: an unsplit 1500-byte segment (DF set) could not be sent at all.
        net.setReplayerMtu(576);
        try {
            TcpEngineOptions o = options(8);
            o.mtu = 576;
            ReplaySummary s = replay(topic, 80, ReplaySpeed.MAX, o);

            assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(1);
            assertThat(s.problemsByReason()).doesNotContainKey("raw-send-failed");
            assertThat(net.accessLog()).hasSize(1);
            assertThat(net.accessLog().get(0)).endsWith(" /post?i=1 " + requestBytes);
        } finally {
            net.setReplayerMtu(1500);
        }
    }

    @Test
    void theInterceptChannelCanUseTlsAndRefusesAnUntrustedServer() throws Exception {
        int port = TcpTestNet.INTERCEPT_PORT + 1;
        java.nio.file.Path ca = net.startTlsIntercept(port);
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-mid.pcap", 80), 0);
        TcpEngineOptions stranger = TcpEngineOptions.of(TcpTestNet.CLIENT_RANGE,
                List.of(TcpTestNet.INTERCEPT_IP + ":" + port), net.token.toFile(), 10);
        stranger.interceptCa = net.strangerCertificate().toFile();

        assertThatThrownBy(() -> replay(topic, 80, ReplaySpeed.MAX, stranger))
                .isInstanceOf(UserInputException.class)
                .hasMessageContaining("intercept " + TcpTestNet.INTERCEPT_IP + ":" + port);
        assertThat(net.accessLog()).isEmpty();

        TcpEngineOptions trusted = TcpEngineOptions.of(TcpTestNet.CLIENT_RANGE,
                List.of(TcpTestNet.INTERCEPT_IP + ":" + port), net.token.toFile(), 11);
        trusted.interceptCa = ca.toFile();
        ReplaySummary s = replay(topic, 80, ReplaySpeed.MAX, trusted);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(1);
        assertThat(countUris(net.accessLog())).containsOnlyKeys("/mid?i=2", "/mid?i=3", "/mid?i=4");
    }

    @Test
    void twoReplayersAndTwoInterceptsWorkTogether() throws Exception {
        int[] instances = {12, 13};
        List<String> intercepts = new ArrayList<>();
        // Each intercept captures only one instance's port block, so each run depends on a different intercept
        // while both runs register with both: answers must be routed to the replayer that owns them.
        for (int k = 0; k < 2; k++) {
            int port = TcpTestNet.INTERCEPT_PORT + 2 + k;
            net.startExtraIntercept(port, "tcp and src port 80 and dst portrange "
                    + ClientEndpoints.firstPort(instances[k]) + "-" + ClientEndpoints.lastPort(instances[k]));
            intercepts.add(TcpTestNet.INTERCEPT_IP + ":" + port);
        }
        try {
            String shortTopic = topic();
            String keepTopic = topic();
            PcapFixture.publish(kafka.bootstrapServers(), shortTopic, PcapFixture.read("http-short.pcap", 80), 0);
            PcapFixture.publish(kafka.bootstrapServers(), keepTopic, PcapFixture.read("http-keepalive.pcap", 80), 0);
            String[] topics = {shortTopic, keepTopic};
            List<CompletableFuture<ReplaySummary>> runs = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int k = 0; k < 2; k++) {
                    TcpEngineOptions o = TcpEngineOptions.of(TcpTestNet.CLIENT_RANGE, intercepts, net.token.toFile(),
                            instances[k]);
                    o.handshakeTimeout = java.time.Duration.ofSeconds(15);
                    String t = topics[k];
                    // Captured pace, so that both runs have sessions open at the same time.
                    runs.add(CompletableFuture.supplyAsync(() -> replay(t, 80, new ReplaySpeed(1.0), o), pool));
                }
                CompletableFuture.allOf(runs.toArray(new CompletableFuture[0])).get(90, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            ReplaySummary a = runs.get(0).get();
            ReplaySummary b = runs.get(1).get();

            assertThat(a.sessionsReplayed()).as(a.summaryLine()).isEqualTo(20);
            assertThat(b.sessionsReplayed()).as(b.summaryLine()).isEqualTo(1);
            assertThat(a.sessionsReplayed() + b.sessionsReplayed()).isEqualTo(a.sessionsSeen() + b.sessionsSeen());
            assertThat(a.sessionsFailed() + b.sessionsFailed()).isZero();
            assertThat(a.messagesAnswered()).isEqualTo(20);
            assertThat(b.messagesAnswered()).isEqualTo(10);
            List<String> log = net.accessLog();
            Map<String, Integer> uris = countUris(log);
            for (int i = 1; i <= 20; i++) {
                assertThat(uris.get("/short?i=" + i)).as("/short?i=" + i).isEqualTo(1);
            }
            for (int i = 1; i <= 10; i++) {
                assertThat(uris.get("/keep?i=" + i)).as("/keep?i=" + i).isEqualTo(1);
            }
            assertThat(log).hasSize(30);
            for (String line : log) {
                assertThat(line).startsWith("10.99.");
            }
        } finally {
            net.stopExtraIntercepts();
        }
    }

    private ReplaySummary replay(String topic, int port, ReplaySpeed speed, TcpEngineOptions tcp) {
        return run(request(topic, port, speed), ReplayTuning.defaults().withDrainTimeout(java.time.Duration.ofSeconds(20)),
                ReplayOptions.defaults(), tcp);
    }
}
