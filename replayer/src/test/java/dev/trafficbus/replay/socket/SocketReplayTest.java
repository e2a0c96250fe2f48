package dev.trafficbus.replay.socket;

import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.CaptureBatcher;
import dev.trafficbus.replay.RecordingHttpServer;
import dev.trafficbus.replay.ReplayCommand;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.TestKafka;
import dev.trafficbus.session.Conversation;
import dev.trafficbus.session.TestPackets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The socket engine against a real broker and a real HTTP server. The captured packets are synthetic
 * (built by {@link Conversation} for engine coverage: reordering, loss, mid-connection starts); the
 * end-to-end path from a real tcpdump capture through the forwarder is tested by the standalone module.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SocketReplayTest {
    private static final String SERVER = "10.1.0.1";
    private static TestKafka kafka;
    private static RecordingHttpServer http;
    private static int answer;

    @BeforeAll
    static void start() throws Exception {
        kafka = new TestKafka();
        http = new RecordingHttpServer();
        answer = http.answerSize();
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) {
            http.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n";
    }

    private static byte[] answerBytes() {
        return new byte[answer];
    }

    private static Conversation client(int port, long startMicros) {
        return new Conversation("10.1.0.2", port, SERVER, 80, port * 7919L, port * 104729L, startMicros);
    }

    private ReplaySummary replay(String topic, String group, InetSocketAddress target, ReplaySpeed speed) {
        ReplayRequest r = new ReplayRequest(topic, kafka.consumerConfig(), target, speed, group, true, false);
        return new SocketReplay(r, ReplayTuning.defaults().withResponseTimeout(Duration.ofSeconds(5))).run();
    }

    private List<RecordingHttpServer.Request> requestsUnder(String prefix) {
        return http.requests.stream().filter(r -> r.path().startsWith(prefix)).toList();
    }

    /** 23 sessions of four kinds; returns the request bytes the target should receive. */
    private static long buildMixedCapture(String p, List<Conversation.Packet> out) {
        long bytes = 0;
        // 20 keep-alive sessions, 3 GETs each, answers captured.
        for (int s = 0; s < 20; s++) {
            Conversation c = client(41000 + s, 1_000_000 + s * 1000L).handshake();
            for (int k = 0; k < 3; k++) {
                String req = get(p + "/keepalive" + s + "/" + k);
                bytes += req.length();
                c.clientSends(req).serverSends(answerBytes(), 1460);
            }
            out.addAll(c.clientFin().serverFin().clientAck().packets());
        }
        // A POST whose body spans 4 segments, captured out of order with a duplicate and without server packets.
        byte[] body = new byte[5000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('A' + i % 26);
        }
        byte[] post = concat(("POST " + p + "/upload/0 HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII), body);
        bytes += post.length;
        Conversation up = client(42000, 1_050_000).handshake().clientSends(post, 1460).serverSendsNotCaptured(answer)
                .clientFin();
        List<Conversation.Packet> upPackets = new ArrayList<>(up.packets().stream()
                .filter(Conversation.Packet::clientToServer).toList());
        Collections.swap(upPackets, 3, 4);
        upPackets.add(5, upPackets.get(2));
        out.addAll(upPackets);
        // A connection already open when the capture started: its first request was not captured.
        Conversation mid = client(42001, 1_060_000).handshakeNotCaptured()
                .clientSends(get(p + "/mid/0")).serverSends(answerBytes(), 1460);
        int notCaptured = mid.packets().size();
        for (int k = 1; k < 3; k++) {
            String req = get(p + "/mid/" + k);
            bytes += req.length();
            mid.clientSends(req).serverSends(answerBytes(), 1460);
        }
        mid.clientFin().serverFin();
        out.addAll(mid.packets().subList(notCaptured, mid.packets().size()));
        // A session whose second request the capture lost: replayed without it, counted incomplete.
        Conversation lossy = client(42002, 1_070_000).handshake();
        int lost = -1;
        for (int k = 0; k < 3; k++) {
            String req = get(p + "/lossy/" + k);
            if (k == 1) {
                lost = lossy.packets().size();
            } else {
                bytes += req.length();
            }
            lossy.clientSends(req).serverSends(answerBytes(), 1460);
        }
        lossy.clientFin().serverFin();
        List<Conversation.Packet> lossyPackets = new ArrayList<>(lossy.packets());
        lossyPackets.remove(lost);
        out.addAll(lossyPackets);
        return bytes;
    }

    @Test
    void replaysEveryCapturedRequestOnceInOrderAndCountsIt() throws Exception {
        String topic = "tb.capture.mixed";
        kafka.createTopic(topic, 3);
        List<Conversation.Packet> packets = new ArrayList<>();
        long requestBytes = buildMixedCapture("/m", packets);
        byte[] udp = TestPackets.udp("10.1.0.2", 5353, SERVER, 53, new byte[12]);
        byte[] udpValue = dev.trafficbus.bus.CapturedPacketCodec.encode(1_000_000,
                dev.trafficbus.bus.avro.Direction.CLIENT_TO_SERVER, udp, 0, udp.length, udp.length, 9999);
        int records = kafka.publish(topic, packets,
                List.of("not an avro record".getBytes(StandardCharsets.US_ASCII), udpValue));
        assertThat(records).as("several packets per record").isLessThan(packets.size() / 2);

        ReplaySummary s = replay(topic, "mixed", http.address(), ReplaySpeed.MAX);

        List<RecordingHttpServer.Request> got = requestsUnder("/m/");
        Map<String, Long> perPath = got.stream().collect(Collectors.groupingBy(RecordingHttpServer.Request::path,
                Collectors.counting()));
        assertThat(perPath.values()).as("every request exactly once").allMatch(n -> n == 1);
        assertThat(perPath).hasSize(65);
        for (int sess = 0; sess < 20; sess++) {
            assertInOrderOnOneConnection(got, "/m/keepalive" + sess + "/", 0, 1, 2);
        }
        assertInOrderOnOneConnection(got, "/m/mid/", 1, 2);
        assertInOrderOnOneConnection(got, "/m/lossy/", 0, 2);
        RecordingHttpServer.Request upload = got.stream().filter(r -> r.path().equals("/m/upload/0")).findFirst()
                .orElseThrow();
        assertThat(upload.method()).isEqualTo("POST");
        assertThat(upload.body()).hasSize(5000);
        for (int i = 0; i < 5000; i++) {
            assertThat(upload.body()[i]).isEqualTo((byte) ('A' + i % 26));
        }

        assertThat(s.sessionsSeen()).isEqualTo(23);
        assertThat(s.sessionsReplayed()).isEqualTo(22);
        assertThat(s.sessionsIncomplete()).isEqualTo(1);
        assertThat(s.sessionsFailed()).isZero();
        assertThat(s.sessionsNotReplayed()).isZero();
        assertThat(s.messagesSent()).isEqualTo(65);
        assertThat(s.messagesAnswered()).isEqualTo(65);
        assertThat(s.bytesSent()).isEqualTo(requestBytes);
        assertThat(s.bytesReceived()).isEqualTo(65L * answer);
        assertThat(s.recordsConsumed()).isEqualTo(records + 2);
        assertThat(s.recordsSkipped()).as("the undecodable one").isEqualTo(1);
        assertThat(s.packetsConsumed()).isEqualTo(packets.size() + 1);
        assertThat(s.packetsSkipped()).as("the UDP one").isEqualTo(1);
        assertThat(s.problemsByReason()).containsExactlyInAnyOrderEntriesOf(
                Map.of("capture-gap", 1L, "undecodable", 1L, "not-tcp", 1L));
        assertThat(s.summaryLine()).contains("replayed 22 of 23 sessions");
    }

    private static void assertInOrderOnOneConnection(List<RecordingHttpServer.Request> got, String prefix,
                                                     int... ks) {
        List<RecordingHttpServer.Request> mine = got.stream().filter(r -> r.path().startsWith(prefix)).toList();
        String digits = prefix.endsWith("/r") ? "%02d" : "%d";
        assertThat(mine).extracting(RecordingHttpServer.Request::path).containsExactly(java.util.Arrays.stream(ks)
                .mapToObj(k -> prefix + String.format(digits, k)).toArray(String[]::new));
        assertThat(mine.stream().map(RecordingHttpServer.Request::clientPort).distinct().count())
                .as("one connection for " + prefix).isEqualTo(1);
    }

    @Test
    void aTargetThatRefusesConnectionsFailsEverySessionByReason() throws Exception {
        String topic = "tb.capture.refused";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> packets = new ArrayList<>();
        for (int s = 0; s < 5; s++) {
            packets.addAll(client(43000 + s, 1_000_000 + s).handshake().clientSends(get("/r/" + s))
                    .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        }
        // One packet per record: what older forwarders published, still read the same way.
        assertThat(kafka.publish(topic, packets, List.of(), 1)).isEqualTo(packets.size());
        InetSocketAddress closed;
        try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = new InetSocketAddress(ss.getInetAddress(), ss.getLocalPort());
        }
        ReplaySummary s = replay(topic, "refused", closed, ReplaySpeed.MAX);
        assertThat(s.sessionsSeen()).isEqualTo(5);
        assertThat(s.sessionsFailed()).isEqualTo(5);
        assertThat(s.sessionsReplayed()).isZero();
        assertThat(s.messagesSent()).isZero();
        assertThat(s.problemsByReason()).containsExactlyEntriesOf(Map.of("connect-refused", 5L));
    }

    @Test
    void aTargetThatResetsOrClosesWithoutAnsweringFailsTheSessionByReason() throws Exception {
        String topic = "tb.capture.rude";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> packets = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            String kind = s % 2 == 0 ? "rst" : "fin";
            packets.addAll(client(47000 + s, 1_000_000 + s).handshake().clientSends(get("/" + kind + "/" + s))
                    .serverSends(answerBytes(), 1460).clientSends(get("/" + kind + "/" + s + "/never"))
                    .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        }
        kafka.publish(topic, packets, List.of());
        // Reads one request, then resets (SO_LINGER 0) or closes the connection without answering.
        try (ServerSocket rude = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!rude.isClosed()) {
                    try (java.net.Socket c = rude.accept()) {
                        byte[] buf = new byte[256];
                        int n = c.getInputStream().read(buf);
                        if (n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).contains("/rst/")) {
                            c.setSoLinger(true, 0);
                        }
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "rude-server");
            t.setDaemon(true);
            t.start();
            ReplaySummary s = replay(topic, "rude", new InetSocketAddress(rude.getInetAddress(), rude.getLocalPort()),
                    ReplaySpeed.MAX);
            assertThat(s.sessionsSeen()).isEqualTo(4);
            assertThat(s.sessionsFailed()).isEqualTo(4);
            assertThat(s.messagesSent()).as("nothing is sent after the target gave up").isEqualTo(4);
            assertThat(s.messagesAnswered()).isZero();
            assertThat(s.problemsByReason()).containsExactlyInAnyOrderEntriesOf(
                    Map.of("target-reset", 2L, "target-closed", 2L));
        }
    }

    @Test
    void followsTheTopicLiveUntilStopped() throws Exception {
        String topic = "tb.capture.live";
        kafka.createTopic(topic, 2);
        ReplayRequest r = new ReplayRequest(topic, kafka.consumerConfig(), http.address(), ReplaySpeed.MAX, null,
                false, false);
        SocketReplay replay = new SocketReplay(r);
        CompletableFuture<ReplaySummary> running = CompletableFuture.supplyAsync(replay::run);
        List<Conversation.Packet> packets = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            packets.addAll(client(44000 + s, 1_000_000 + s).handshake().clientSends(get("/live/" + s + "/0"))
                    .serverSends(answerBytes(), 1460).clientSends(get("/live/" + s + "/1"))
                    .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        }
        // Still open at the end of what was captured, its last request unanswered: only the idle flush sends it.
        packets.addAll(client(44010, 1_000_100).handshake().clientSends(get("/live/open/0")).packets());
        kafka.publish(topic, packets, List.of());

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (requestsUnder("/live/").size() < 9 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(requestsUnder("/live/")).hasSize(9);
        assertThat(running).isNotDone();
        replay.stop();
        ReplaySummary s = running.get(30, TimeUnit.SECONDS);
        assertThat(s.sessionsSeen()).isEqualTo(5);
        assertThat(s.sessionsReplayed()).isEqualTo(5);
        assertThat(s.messagesSent()).isEqualTo(9);
        // The open session's request had no captured answer, so the quiet rule ends its wait: still answered.
        assertThat(s.messagesAnswered()).isEqualTo(9);
    }

    @Test
    void speedTwoKeepsHalfTheCapturedGapsBetweenSessionsAndMessages() throws Exception {
        String topic = "tb.capture.paced";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> packets = new ArrayList<>();
        // The first session absorbs the engine's cold start (class loading, first connect).
        packets.addAll(client(45002, 10_000_000).handshake().clientSends(get("/paced/warmup/0"))
                .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        packets.addAll(client(45000, 10_600_000).handshake().clientSends(get("/paced/a/0"))
                .serverSends(answerBytes(), 1460).after(1_200_000).clientSends(get("/paced/a/1"))
                .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        packets.addAll(client(45001, 11_600_000).handshake().clientSends(get("/paced/b/0"))
                .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        kafka.publish(topic, packets, List.of());

        // One event loop, so the warm-up session also warms the loop the measured sessions run on.
        ReplayRequest r = new ReplayRequest(topic, kafka.consumerConfig(), http.address(), new ReplaySpeed(2),
                "paced", true, false);
        ReplaySummary s = new SocketReplay(r, ReplayTuning.defaults().withIoThreads(1)).run();

        assertThat(s.sessionsReplayed()).isEqualTo(3);
        assertThat(s.messagesAnswered()).isEqualTo(4);
        Map<String, Long> at = requestsUnder("/paced/").stream().collect(Collectors.toMap(
                RecordingHttpServer.Request::path, RecordingHttpServer.Request::arrivedNanos));
        // Lower bounds only: nothing may be sent early, but anything may be late on a busy machine. The gaps
        // are measured from /paced/a/0, which can itself be late (its thread not scheduled: 65 ms were seen at
        // load 10 on 2 cores), shortening what is measured; 150 ms allow for that. Unpaced, the gaps are ~1 ms.
        long slack = TimeUnit.MILLISECONDS.toNanos(150);
        assertThat(at.get("/paced/a/1") - at.get("/paced/a/0"))
                .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(600) - slack);
        assertThat(at.get("/paced/b/0") - at.get("/paced/a/0"))
                .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(500) - slack);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void doesNotStayPausedWhileEverySlotWaitsForCapturedInput() throws Exception {
        String topic = "tb.capture.starved";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> packets = new ArrayList<>();
        // a holds the only slot and waits for its second request, captured after b's whole session.
        packets.addAll(client(48000, 1_000_000).handshake().clientSends(get("/starved/a/0"))
                .serverSends(answerBytes(), 1460).after(3_000_000).clientSends(get("/starved/a/1"))
                .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        packets.addAll(client(48001, 2_000_000).handshake().clientSends(get("/starved/b/0"))
                .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        kafka.publish(topic, packets, List.of());

        // One record per poll, so the consumer pauses on b's bytes before it reads a's second request.
        java.util.Properties config = kafka.consumerConfig();
        config.put("max.poll.records", "1");
        ReplayRequest r = new ReplayRequest(topic, config, http.address(), ReplaySpeed.MAX, "starved", true, false);
        ReplaySummary s = new SocketReplay(r, ReplayTuning.defaults().withMaxConnections(1).withMaxBufferedBytes(1)
                .withResponseTimeout(Duration.ofSeconds(5))).run();

        assertThat(s.sessionsReplayed()).isEqualTo(2);
        assertThat(s.messagesSent()).isEqualTo(3);
        assertThat(requestsUnder("/starved/")).hasSize(3);
    }

    @Test
    void aStopDuringTheWarmUpStillHandlesTheRecordsItGathered() throws Exception {
        String topic = "tb.capture.warmup";
        kafka.createTopic(topic, 2);
        List<Conversation.Packet> packets = client(49000, 1_000_000).handshake().clientSends(get("/warmup/0"))
                .serverSends(answerBytes(), 1460).clientFin().serverFin().packets();
        int records = kafka.publish(topic, packets, List.of());
        // A partition that holds only aborted records looks non-empty but yields nothing: the warm-up waits its full 3 s.
        kafka.publishAborted(topic, 2);
        java.util.Properties config = kafka.consumerConfig();
        config.put("isolation.level", "read_committed");
        ReplayRequest r = new ReplayRequest(topic, config, http.address(), new ReplaySpeed(1), "warmup", false, false);
        SocketReplay replay = new SocketReplay(r);
        CompletableFuture<ReplaySummary> running = CompletableFuture.supplyAsync(replay::run);
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && admin.describeConsumerGroups(List.of("warmup")).all().get()
                    .get("warmup").members().stream().allMatch(m -> m.assignment().topicPartitions().isEmpty())) {
                Thread.sleep(20);
            }
        }
        Thread.sleep(500); // assigned and fetched, still well inside the warm-up
        replay.stop();
        ReplaySummary s = running.get(30, TimeUnit.SECONDS);
        assertThat(s.recordsConsumed()).isEqualTo(records);
        assertThat(s.packetsConsumed()).isEqualTo(packets.size());
        assertThat(s.sessionsSeen()).isEqualTo(1);
    }

    @Test
    void theCommandReplaysUntilTheEndAndWritesTheReport(@TempDir Path dir) throws Exception {
        String topic = "tb.capture.cli";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> packets = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            packets.addAll(client(46000 + s, 1_000_000 + s).handshake().clientSends(get("/cli/" + s))
                    .serverSends(answerBytes(), 1460).clientFin().serverFin().packets());
        }
        int records = kafka.publish(topic, packets, List.of());
        Path report = dir.resolve("run.json");
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", topic, "--target", TargetAddress.show(http.address()),
                "--bootstrap-servers", kafka.bootstrapServers(), "--speed", "max", "--until-end",
                "--report", report.toString());
        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.out()).startsWith("replayed 3 of 3 sessions (0 incomplete, 0 failed, 0 not replayed); 3 messages sent, 3 answered;");
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.path("topic").asText()).isEqualTo(topic);
        assertThat(json.path("sessions").path("replayed").asLong()).isEqualTo(3);
        assertThat(json.path("messages").path("answered").asLong()).isEqualTo(3);
        assertThat(json.path("records").path("consumed").asLong()).isEqualTo(records);
        assertThat(json.path("packets").path("consumed").asLong()).isEqualTo(packets.size());
        assertThat(json.path("packets").path("skipped").asLong()).isZero();
        assertThat(requestsUnder("/cli/")).hasSize(3);

        // Everything was consumed by the group: a second run finds nothing, which is exit code 1.
        o = CommandOutput.run(new ReplayCommand(), "--topic", topic, "--target", TargetAddress.show(http.address()),
                "--bootstrap-servers", kafka.bootstrapServers(), "--speed", "max", "--until-end");
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.out()).startsWith("replayed 0 of 0 sessions");

        o = CommandOutput.run(new ReplayCommand(), "--topic", "tb.capture.typo", "--target", TargetAddress.show(http.address()),
                "--bootstrap-servers", kafka.bootstrapServers(), "--until-end");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).isEqualTo("trafficbus replay: topic tb.capture.typo does not exist at "
                + kafka.bootstrapServers() + "; forward something first or check --bootstrap-servers" + System.lineSeparator());
    }

    @Test
    void aRecordMayCrossRequestsAndConnectionsAndHoldAPacketThatIsNotTcp() throws Exception {
        String topic = "tb.capture.cuts";
        kafka.createTopic(topic, 1);
        Conversation keep = client(51000, 1_000_000).handshake();
        for (int k = 0; k < 3; k++) {
            keep.clientSends(get("/cuts/keep/" + k)).serverSends(answerBytes(), 1460);
        }
        List<Conversation.Packet> kp = keep.clientFin().serverFin().clientAck().packets();
        int secondRequest = nthClientData(kp, 1);
        byte[] udp = TestPackets.udp("10.1.0.2", 5353, SERVER, 53, new byte[12]);
        List<CaptureBatcher.Packet> withUdp = new ArrayList<>(batched(kp.subList(secondRequest + 1, kp.size() - 2)));
        withUdp.add(1, new CaptureBatcher.Packet(kp.get(secondRequest).tsMicros(), true, udp));
        // Handshake to the second request, then the rest to the client's FIN (a UDP packet among them), then the tail.
        List<CaptureBatcher.Record> records = new ArrayList<>(List.of(
                CaptureBatcher.record(batched(kp.subList(0, secondRequest + 1))), CaptureBatcher.record(withUdp),
                CaptureBatcher.record(batched(kp.subList(kp.size() - 2, kp.size() - 1))),
                CaptureBatcher.record(batched(kp.subList(kp.size() - 1, kp.size())))));
        // The same 4-tuple reused without a captured close: one record ends the first connection and starts the next.
        Conversation first = client(51001, 1_100_000).handshake().clientSends(get("/cuts/reused/0"))
                .serverSends(answerBytes(), 1460);
        Conversation second = new Conversation("10.1.0.2", 51001, SERVER, 80, 777_777L, 888_888L, 1_200_000)
                .handshake().clientSends(get("/cuts/reused/1")).serverSends(answerBytes(), 1460)
                .clientFin().serverFin().clientAck();
        List<Conversation.Packet> fp = first.packets();
        List<Conversation.Packet> sp = second.packets();
        List<Conversation.Packet> across = new ArrayList<>(fp.subList(fp.size() - 2, fp.size()));
        across.addAll(sp.subList(0, 3));
        records.add(CaptureBatcher.record(batched(fp.subList(0, fp.size() - 2))));
        records.add(CaptureBatcher.record(batched(across)));
        records.addAll(CaptureBatcher.group(batched(sp.subList(3, sp.size())), CaptureBatcher.DEFAULT_MAX_PACKETS));
        kafka.publishRecords(topic, records, List.of());
        int packets = records.stream().mapToInt(CaptureBatcher.Record::packets).sum();
        assertThat(packets).isEqualTo(kp.size() + 1 + fp.size() + sp.size());

        ReplaySummary s = replay(topic, "cuts", http.address(), ReplaySpeed.MAX);

        List<RecordingHttpServer.Request> got = requestsUnder("/cuts/");
        assertInOrderOnOneConnection(got, "/cuts/keep/", 0, 1, 2);
        List<RecordingHttpServer.Request> reused = got.stream().filter(r -> r.path().startsWith("/cuts/reused/"))
                .toList();
        assertThat(reused).extracting(RecordingHttpServer.Request::path)
                .containsExactlyInAnyOrder("/cuts/reused/0", "/cuts/reused/1");
        assertThat(reused.stream().map(RecordingHttpServer.Request::clientPort).distinct()).as("two connections")
                .hasSize(2);
        assertThat(s.sessionsSeen()).as(s.summaryLine()).isEqualTo(3);
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(3);
        assertThat(s.messagesSent()).isEqualTo(5);
        assertThat(s.messagesAnswered()).isEqualTo(5);
        assertThat(s.recordsConsumed()).isEqualTo(records.size());
        assertThat(s.packetsConsumed()).isEqualTo(packets);
        assertThat(s.packetsSkipped()).isEqualTo(1);
        assertThat(s.problemsByReason()).containsExactlyEntriesOf(Map.of("not-tcp", 1L));
    }

    @Test
    void recordsOfServerPacketsOnlyStillPaceTheRequests() throws Exception {
        String topic = "tb.capture.serveronly";
        kafka.createTopic(topic, 1);
        List<Conversation.Packet> all = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            Conversation conv = client(52000 + c, 1_000_000 + c * 100_000L).handshake();
            for (int k = 0; k < 3; k++) {
                // The answer in three segments: their record holds nothing the client sent.
                conv.clientSends(get("/server-only/" + c + "/" + k)).serverSends(answerBytes(), (answer + 2) / 3);
            }
            all.addAll(conv.clientFin().serverFin().clientAck().packets());
        }
        // Cut where the direction changes (and after every FIN): client runs and server runs in records of their own.
        List<CaptureBatcher.Record> records = new ArrayList<>();
        List<Conversation.Packet> run = new ArrayList<>();
        for (Conversation.Packet p : all) {
            if (!run.isEmpty() && run.get(0).clientToServer() != p.clientToServer()) {
                records.add(CaptureBatcher.record(batched(run)));
                run.clear();
            }
            run.add(p);
            if (p.view().hasFlag(PacketView.FIN)) {
                records.add(CaptureBatcher.record(batched(run)));
                run.clear();
            }
        }
        if (!run.isEmpty()) {
            records.add(CaptureBatcher.record(batched(run)));
        }
        assertThat(records.stream().filter(r -> r.packets() == 3)).as("answers of three server segments").hasSize(6);
        kafka.publishRecords(topic, records, List.of());

        ReplaySummary s = replay(topic, "serveronly", http.address(), ReplaySpeed.MAX);

        for (int c = 0; c < 2; c++) {
            assertInOrderOnOneConnection(requestsUnder("/server-only/"), "/server-only/" + c + "/", 0, 1, 2);
        }
        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(2);
        assertThat(s.messagesSent()).isEqualTo(6);
        assertThat(s.messagesAnswered()).isEqualTo(6);
        assertThat(s.packetsConsumed()).isEqualTo(all.size());
        assertThat(s.problemsByReason()).isEmpty();
    }

    private static List<CaptureBatcher.Packet> batched(List<Conversation.Packet> packets) {
        return packets.stream().map(p -> new CaptureBatcher.Packet(p.tsMicros(), p.clientToServer(), p.bytes()))
                .toList();
    }

    /** Index of the {@code n}th (0-based) client packet that carries data. */
    private static int nthClientData(List<Conversation.Packet> packets, int n) {
        for (int i = 0; i < packets.size(); i++) {
            if (packets.get(i).clientToServer() && packets.get(i).view().payloadLength() > 0 && n-- == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("fewer client data packets");
    }

    @Test
    void anUnknownTopicIsAUserError() {
        ReplayRequest r = new ReplayRequest("tb.capture.nothing-here", kafka.consumerConfig(), http.address(),
                ReplaySpeed.MAX, null, true, false);
        assertThatThrownBy(() -> new SocketReplay(r).run()).isInstanceOf(UserInputException.class)
                .hasMessage("topic tb.capture.nothing-here does not exist at " + kafka.bootstrapServers()
                        + "; forward something first or check --bootstrap-servers");
    }

    @Test
    void anUnreachableBrokerIsAUserErrorAfterABoundedWait() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + port);
        ReplayRequest r = new ReplayRequest("tb.capture.x", p, http.address(), ReplaySpeed.MAX, null, true, false);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> new SocketReplay(r, ReplayTuning.defaults().withBrokerWait(Duration.ofSeconds(2))).run())
                .isInstanceOf(UserInputException.class)
                .hasMessageStartingWith("no Kafka broker answered at 127.0.0.1:" + port + " within 2 s");
        assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(10));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
