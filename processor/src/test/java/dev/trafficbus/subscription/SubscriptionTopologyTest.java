package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.bus.avro.Direction;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every subscription rule and their combinations, on the real topology in a TopologyTestDriver. The rule tests
 * run twice: on one-packet records and on records of up to four packets of a flow, grouped as the forwarder does.
 */
class SubscriptionTopologyTest {
    @TempDir
    Path stateDir;
    private ProcessorCounters counters;
    private SubscriptionRegistry registry;
    private TopologyTestDriver driver;
    private long clock = 1_700_000_000_000_000L;
    /** Most packets per input record. */
    private int batch = 1;

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
    }

    private void start(String... yamls) {
        counters = new ProcessorCounters(null);
        registry = new SubscriptionRegistry(counters);
        for (String y : yamls) {
            registry.put(SubscriptionParser.parseOne(y));
        }
        Properties p = new Properties();
        p.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.setProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.setProperty(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        ProcessorSettings settings = ProcessorSettings.defaults().withHeldIdle(Duration.ofSeconds(30));
        driver = new TopologyTestDriver(SubscriptionTopology.build(registry, counters, settings), p,
                Instant.ofEpochMilli(1_000_000));
    }

    private TestInputTopic<byte[], byte[]> input(String source) {
        return driver.createInputTopic("tb.capture." + source, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private void pipe(String source, List<TestSession.Packet> packets) {
        pipeRecords(source, TestSession.batch(packets, batch));
    }

    /** Pipes the records as they are (no batching). */
    private void pipeRecords(String source, List<TestSession.Packet> records) {
        TestInputTopic<byte[], byte[]> in = input(source);
        for (TestSession.Packet p : records) {
            RecordHeaders h = new RecordHeaders();
            h.add(RecordHeaderNames.SOURCE, source.getBytes(StandardCharsets.UTF_8));
            in.pipeInput(new TestRecord<>(p.key(), p.value(), h, Instant.ofEpochMilli(p.micros() / 1000)));
        }
    }

    private void pipe(String source, TestSession... sessions) {
        for (TestSession s : sessions) {
            pipe(source, s.packets);
        }
    }

    private List<TestRecord<byte[], byte[]>> out(String name) {
        return driver.createOutputTopic("tb.sub." + name, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                .readRecordsToList();
    }

    private TestSession session(int port, String request) {
        clock += 10_000;
        return TestSession.exchange(port, clock, request);
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: t\r\nUser-Agent: test/1\r\n\r\n";
    }

    /** The copy index: the tb.copy header (absent = 0). */
    private static int copy(TestRecord<byte[], byte[]> r) {
        var h = r.headers().lastHeader(RecordHeaderNames.COPY);
        return h == null ? 0 : ByteBuffer.wrap(h.value()).getInt();
    }

    /** The IP packets of the records, in order. */
    private static List<byte[]> ipPackets(List<TestRecord<byte[], byte[]>> records) {
        List<byte[]> out = new ArrayList<>();
        CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader();
        for (TestRecord<byte[], byte[]> rec : records) {
            r.read(rec.value());
            do {
                out.add(Arrays.copyOfRange(r.packetArray(), r.packetOffset(), r.packetOffset() + r.packetLength()));
            } while (r.advance());
        }
        return out;
    }

    private static int packetCount(List<TestRecord<byte[], byte[]>> records) {
        return ipPackets(records).size();
    }

    /** TCP payloads (as text) of the records' packets, in order. */
    private static List<String> payloads(List<TestRecord<byte[], byte[]>> records) {
        return ipPackets(records).stream().map(ip -> new String(ip, 40, ip.length - 40, StandardCharsets.ISO_8859_1))
                .toList();
    }

    private static int clientPort(TestRecord<byte[], byte[]> r) {
        return ((r.key()[11] & 0xFF) << 8) | (r.key()[12] & 0xFF);
    }

    private static Set<Integer> ports(List<TestRecord<byte[], byte[]>> records) {
        return records.stream().map(SubscriptionTopologyTest::clientPort).collect(Collectors.toSet());
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void passThroughForwardsEachInputRecordUnchangedOncePerCopy(int batch) {
        this.batch = batch;
        start("{name: team-a, sources: [web1], amplify: 3}");
        TestSession s = session(40000, get("/x"));
        List<TestSession.Packet> in = TestSession.batch(s.packets, batch);
        if (batch > 1) {
            assertThat(in).as("the fixture holds records of several packets").hasSizeLessThan(s.packets.size());
        }
        pipe("web1", s);
        List<TestRecord<byte[], byte[]>> out = out("team-a");
        assertThat(out).hasSize(in.size() * 3);
        for (int i = 0; i < in.size(); i++) {
            for (int c = 0; c < 3; c++) {
                TestRecord<byte[], byte[]> r = out.get(i * 3 + c);
                assertThat(r.value()).isEqualTo(in.get(i).value());
                assertThat(r.key()).isEqualTo(in.get(i).key());
                assertThat(r.timestamp()).isEqualTo(in.get(i).micros() / 1000);
                assertThat(copy(r)).isEqualTo(c);
                assertThat(r.headers().headers(RecordHeaderNames.COPY)).hasSize(1);
                assertThat(r.headers().lastHeader("tb.subscription")).as("the topic names it").isNull();
                assertThat(r.headers().lastHeader(RecordHeaderNames.SOURCE).value()).isEqualTo("web1".getBytes());
            }
        }
        assertThat(ipPackets(out.stream().filter(r -> copy(r) == 1).toList()))
                .containsExactlyElementsOf(s.packets.stream().map(TestSession.Packet::ip).toList());
        SubscriptionCounters c = counters.of("team-a");
        assertThat(c.sessionsIn()).isEqualTo(1);
        assertThat(c.sessionsKept()).isEqualTo(1);
        assertThat(c.packetsIn()).isEqualTo(s.packets.size());
        assertThat(c.packetsOut()).isEqualTo(s.packets.size() * 3L);
        assertThat(c.recordsOut()).isEqualTo(in.size() * 3L);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void sourcesSelectTheCaptureTopics(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1]}", "{name: b, sources: [web2, web3]}");
        pipe("web1", session(40001, get("/1")));
        pipe("web2", session(40002, get("/2")));
        pipe("web4", session(40004, get("/4")));
        assertThat(ports(out("a"))).containsExactly(40001);
        assertThat(ports(out("b"))).containsExactly(40002);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void serverPortsAndClientNetworksFilterWholeSessions(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1], filter: {server-ports: [80], client-cidrs: [10.0.0.0/8]}}");
        TestSession ok = session(40010, get("/ok"));
        TestSession otherPort = new TestSession(new int[] {10, 0, 0, 2}, 40011, new int[] {10, 0, 0, 1}, 8080, 5, clock);
        otherPort.handshake().client(get("/port")).close();
        TestSession otherNet = new TestSession(new int[] {192, 168, 1, 5}, 40012, new int[] {10, 0, 0, 1}, 80, 9, clock);
        otherNet.handshake().client(get("/net")).close();
        pipe("web1", ok, otherPort, otherNet);
        List<TestRecord<byte[], byte[]>> out = out("a");
        assertThat(ports(out)).containsExactly(40010);
        assertThat(packetCount(out)).isEqualTo(ok.packets.size());
        SubscriptionCounters c = counters.of("a");
        assertThat(c.sessionsIn()).isEqualTo(3);
        assertThat(c.sessionsDropped("filter-server-port")).isEqualTo(1);
        assertThat(c.sessionsDropped("filter-client-cidr")).isEqualTo(1);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void samplingKeepsWholeSessionsDeterministically(int batch) {
        this.batch = batch;
        String yaml = "{name: a, sources: [web1], sample: 25%}";
        List<TestSession> sessions = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            sessions.add(session(20000 + i, get("/s" + i)));
        }
        start(yaml);
        pipe("web1", sessions.toArray(new TestSession[0]));
        List<TestRecord<byte[], byte[]>> first = out("a");
        Set<Integer> kept = ports(first);
        // 200 sessions at 25%: the binomial spread is about 6, so 25..75 holds unless the hash is skewed.
        assertThat(kept.size()).isBetween(25, 75);
        int perSession = sessions.get(0).packets.size();
        assertThat(packetCount(first)).isEqualTo(kept.size() * perSession);
        assertThat(counters.of("a").sessionsDropped("sampled-out")).isEqualTo(200 - kept.size());
        driver.close();
        driver = null;
        // The same sessions in records of another size: the same sample.
        this.batch = batch == 1 ? 3 : 1;
        start(yaml);
        pipe("web1", sessions.toArray(new TestSession[0]));
        assertThat(ports(out("a"))).isEqualTo(kept);
        // Another subscription with the same rate picks another sample.
        driver.close();
        driver = null;
        start("{name: b, sources: [web1], sample: 25%}");
        pipe("web1", sessions.toArray(new TestSession[0]));
        assertThat(ports(out("b"))).isNotEqualTo(kept);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void httpRulesDecideOnTheFirstRequestSpanningSeveralPackets(int batch) {
        this.batch = batch;
        start("""
                name: a
                sources: [web1]
                filter:
                  http:
                    methods: [GET, POST]
                    allow-url: ['^/api/']
                    deny-url: ['^/api/admin']
                """);
        String req = get("/api/items?page=1");
        // The first request arrives in three segments, the last two swapped.
        TestSession split = TestSession.of(41000, clock += 10_000).handshake();
        long base = split.isn + 1;
        byte[] r = req.getBytes(StandardCharsets.ISO_8859_1);
        TestSession parts = new TestSession(new int[] {10, 0, 0, 2}, 41000, new int[] {10, 0, 0, 1}, 80, split.isn, clock);
        parts.handshake();
        List<TestSession.Packet> packets = new ArrayList<>(parts.packets);
        TestSession p1 = seg(41000, split.isn, base, Arrays.copyOfRange(r, 0, 10));
        TestSession p2 = seg(41000, split.isn, base + 10, Arrays.copyOfRange(r, 10, 20));
        TestSession p3 = seg(41000, split.isn, base + 20, Arrays.copyOfRange(r, 20, r.length));
        packets.addAll(p1.packets);
        packets.addAll(p3.packets);
        pipe("web1", packets);
        assertThat(out("a")).as("nothing leaves before the head is complete").isEmpty();
        pipe("web1", p2.packets);
        List<TestRecord<byte[], byte[]>> released = out("a");
        List<byte[]> releasedPackets = ipPackets(released);
        assertThat(releasedPackets).hasSize(packets.size() + 1);
        assertThat(releasedPackets.get(0)).isEqualTo(packets.get(0).ip());
        // Later packets of a kept session go straight through.
        TestSession more = seg(41000, split.isn, base + r.length, "GET /api/next HTTP/1.1\r\n\r\n".getBytes());
        pipe("web1", more.packets);
        assertThat(out("a")).hasSize(1);

        pipe("web1", session(41001, get("/api/admin/users")), session(41002, get("/other")),
                session(41003, "DELETE /api/x HTTP/1.1\r\nHost: t\r\n\r\n"),
                session(41004, "POST /api/form HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
        assertThat(ports(out("a"))).containsExactly(41004);
        SubscriptionCounters c = counters.of("a");
        assertThat(c.sessionsDropped("http-deny-url")).isEqualTo(1);
        assertThat(c.sessionsDropped("http-allow-url")).isEqualTo(1);
        assertThat(c.sessionsDropped("http-method")).isEqualTo(1);
        assertThat(c.sessionsKept()).isEqualTo(2);
        assertThat(c.sessionsIn()).isEqualTo(5);
    }

    @Test
    void aFirstRequestSplitOverRecordsIsReleasedInOrderAndOneRecordMayHoldTheHeadAndLaterPackets() {
        start("{name: a, sources: [web1], filter: {http: {allow-url: ['^/api/']}}}", "{name: all, sources: [web1]}");
        String req = get("/api/long?q=" + "x".repeat(40));
        byte[] r = req.getBytes(StandardCharsets.ISO_8859_1);
        TestSession s = TestSession.of(41100, clock += 10_000).handshake();
        s.client(TestSession.PSH | TestSession.ACK, Arrays.copyOfRange(r, 0, 30));
        s.client(TestSession.PSH | TestSession.ACK, Arrays.copyOfRange(r, 30, 60));
        s.client(TestSession.PSH | TestSession.ACK, Arrays.copyOfRange(r, 60, r.length));
        s.server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").client(get("/api/second")).close();
        List<TestSession.Packet> p = s.packets;
        // Record 1: the handshake and the first part of the head; record 2: the rest of the head, the response
        // and the next request in one record; then the close.
        List<TestSession.Packet> records = List.of(
                TestSession.join(new ArrayList<>(p.subList(0, 4))),
                TestSession.join(new ArrayList<>(p.subList(4, 8))),
                TestSession.join(new ArrayList<>(p.subList(8, p.size()))));
        pipeRecords("web1", records.subList(0, 1));
        assertThat(out("a")).as("held until the head is complete").isEmpty();
        pipeRecords("web1", records.subList(1, 3));
        List<TestRecord<byte[], byte[]>> out = out("a");
        assertThat(ipPackets(out)).containsExactlyElementsOf(p.stream().map(TestSession.Packet::ip).toList());
        assertThat(out).as("one record per held input record, then the close as it came").hasSize(3);
        assertThat(out.get(2).value()).isEqualTo(records.get(2).value());
        assertThat(counters.of("a").sessionsKept()).isEqualTo(1);
        assertThat(counters.of("a").packetsOut()).isEqualTo(p.size());
        assertThat(out("all").stream().map(TestRecord::value).toList())
                .containsExactlyElementsOf(records.stream().map(TestSession.Packet::value).toList());
    }

    @Test
    void aClientSynInsideARecordStartsANewSessionThere() {
        // Two sessions on one 4-tuple in one record (a writer that does not split records at a SYN): the
        // decisions are per session and no record a stateful subscription writes spans the two; a state-free
        // one forwards the record as it came.
        start("{name: a, sources: [web1], filter: {http: {allow-url: ['^/keep']}}}",
                "{name: b, sources: [web1], rate: 1000 sessions/s}", "{name: c, sources: [web1]}");
        TestSession dropped = new TestSession(new int[] {10, 0, 0, 2}, 41200, new int[] {10, 0, 0, 1}, 80, 1000,
                clock += 10_000).handshake().client(get("/drop")).close();
        TestSession kept = new TestSession(new int[] {10, 0, 0, 2}, 41200, new int[] {10, 0, 0, 1}, 80, 900_000,
                clock += 10_000).handshake().client(get("/keep")).close();
        List<TestSession.Packet> all = new ArrayList<>(dropped.packets.subList(4, dropped.packets.size()));
        all.addAll(kept.packets.subList(0, 5));
        pipeRecords("web1", TestSession.batch(dropped.packets.subList(0, 4), 4));
        TestSession.Packet both = TestSession.join(all);
        pipeRecords("web1", List.of(both));
        pipeRecords("web1", TestSession.batch(kept.packets.subList(5, kept.packets.size()), 4));
        List<TestRecord<byte[], byte[]>> a = out("a");
        assertThat(ipPackets(a)).containsExactlyElementsOf(kept.packets.stream().map(TestSession.Packet::ip).toList());
        assertThat(counters.of("a").sessionsIn()).isEqualTo(2);
        assertThat(counters.of("a").sessionsDropped("http-allow-url")).isEqualTo(1);
        List<TestRecord<byte[], byte[]>> b = out("b");
        assertThat(packetCount(b)).isEqualTo(dropped.packets.size() + kept.packets.size());
        assertThat(counters.of("b").sessionsIn()).isEqualTo(2);
        for (TestRecord<byte[], byte[]> rec : b) {
            Set<Boolean> fromKept = new HashSet<>();
            for (byte[] ip : ipPackets(List.of(rec))) {
                fromKept.add(kept.packets.stream().anyMatch(k -> Arrays.equals(k.ip(), ip)));
            }
            assertThat(fromKept).as("a record holds packets of one session").hasSize(1);
        }
        assertThat(out("c").stream().map(TestRecord::value).toList()).contains(both.value());
        assertThat(counters.of("c").sessionsIn()).isEqualTo(2);
    }

    /** A lone client data segment of session (port, isn) at sequence {@code seq}. */
    private TestSession seg(int port, long isn, long seq, byte[] data) {
        TestSession s = new TestSession(new int[] {10, 0, 0, 2}, port, new int[] {10, 0, 0, 1}, 80, seq, clock += 10);
        return s.client(TestSession.PSH | TestSession.ACK, data);
    }

    /** An h2c session (prior knowledge): preface and SETTINGS, then the first request's HEADERS, split. */
    private TestSession h2Session(int port, String method, String path) throws Exception {
        io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.buffer();
        new io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder().encodeHeaders(1,
                new io.netty.handler.codec.http2.DefaultHttp2Headers().method(method).scheme("http").authority("t")
                        .path(path).add("user-agent", "h2/1"), block);
        java.io.ByteArrayOutputStream c = new java.io.ByteArrayOutputStream();
        c.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        c.writeBytes(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS
        int n = block.readableBytes();
        c.writeBytes(new byte[] {0, 0, (byte) n, 1, 0x5, 0, 0, 0, 1}); // HEADERS, END_STREAM | END_HEADERS
        byte[] b = new byte[n];
        block.readBytes(b);
        c.writeBytes(b);
        byte[] all = c.toByteArray();
        clock += 10_000;
        return TestSession.of(port, clock).handshake().client(TestSession.PSH | TestSession.ACK, Arrays.copyOf(all, 20))
                .client(TestSession.PSH | TestSession.ACK, Arrays.copyOfRange(all, 20, all.length))
                .server(TestSession.PSH | TestSession.ACK, new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}).close();
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void httpRulesDecideAnHttp2SessionOnItsFirstRequest(int batch) throws Exception {
        this.batch = batch;
        start("""
                name: a
                sources: [web1]
                filter:
                  http:
                    methods: [GET, POST]
                    allow-url: ['^/api/']
                    deny-url: ['^/api/admin']
                    allow-header: ['^Host: t$']
                """);
        pipe("web1", h2Session(42101, "GET", "/api/items?page=1"), h2Session(42102, "GET", "/api/admin/users"),
                h2Session(42103, "GET", "/other"), h2Session(42104, "DELETE", "/api/x"),
                h2Session(42105, "POST", "/api/form"));
        assertThat(ports(out("a"))).containsExactlyInAnyOrder(42101, 42105);
        SubscriptionCounters c = counters.of("a");
        assertThat(c.sessionsDropped("http-deny-url")).isEqualTo(1);
        assertThat(c.sessionsDropped("http-allow-url")).isEqualTo(1);
        assertThat(c.sessionsDropped("http-method")).isEqualTo(1);
        assertThat(c.sessionsKept()).isEqualTo(2);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void httpHeaderRuleAndNonHttpSessions(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1], filter: {http: {allow-header: ['User-Agent: .*Mobile.*']}}}");
        pipe("web1", session(42001, "GET / HTTP/1.1\r\nUser-Agent: Foo Mobile Safari\r\n\r\n"),
                session(42002, "GET / HTTP/1.1\r\nUser-Agent: Desktop\r\n\r\n"),
                session(42003, "\u0016\u0003\u0001binary tls hello"));
        assertThat(ports(out("a"))).containsExactly(42001);
        assertThat(counters.of("a").sessionsDropped("http-allow-header")).isEqualTo(1);
        assertThat(counters.of("a").sessionsDropped("http-not-http")).isEqualTo(1);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void heldSessionsWithoutRequestExpireOrEndAsNoRequest(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1], filter: {http: {methods: [GET]}}}");
        TestSession idle = TestSession.of(43001, clock += 10_000).handshake();
        pipe("web1", idle);
        TestSession closed = TestSession.of(43002, clock += 10_000).handshake().close();
        pipe("web1", closed);
        assertThat(counters.of("a").sessionsDropped("http-no-request")).isEqualTo(1);
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        assertThat(counters.of("a").sessionsDropped("expired")).isZero();
        driver.advanceWallClockTime(Duration.ofSeconds(31));
        assertThat(counters.of("a").sessionsDropped("expired")).isEqualTo(1);
        // A late request of the expired session does not bring it back.
        TestSession late = seg(43001, idle.isn, idle.isn + 1, get("/late").getBytes());
        pipe("web1", late.packets);
        assertThat(out("a")).isEmpty();
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void rateCapsNewSessionsPerSecondOfCaptureTime(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1], rate: 2 sessions/s}");
        List<TestSession> burst = new ArrayList<>();
        long t = clock;
        for (int i = 0; i < 6; i++) {
            burst.add(TestSession.exchange(44000 + i, t + i * 1000L, get("/" + i)));
        }
        TestSession later = TestSession.exchange(44100, t + 2_000_000L, get("/later"));
        pipe("web1", burst.toArray(new TestSession[0]));
        pipe("web1", later);
        assertThat(ports(out("a"))).containsExactlyInAnyOrder(44000, 44001, 44100);
        assertThat(counters.of("a").sessionsDropped("rate-limited")).isEqualTo(4);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void redactionMasksSameLengthAndKeepsChecksumsValid(int batch) {
        this.batch = batch;
        start("""
                name: a
                sources: [web1]
                redact:
                  headers: [Authorization, cookie]
                  patterns: ['card=(\\d{16})']
                """, "{name: plain, sources: [web1]}");
        String req = "POST /pay HTTP/1.1\r\nAuthorization: Bearer abc.def\r\nCookie: s=1\r\nContent-Length: 21\r\n\r\n"
                + "card=4111111111111111";
        TestSession s = session(45000, req);
        pipe("web1", s);
        List<TestRecord<byte[], byte[]>> out = out("a");
        List<TestSession.Packet> in = TestSession.batch(s.packets, batch);
        assertThat(out).hasSize(in.size());
        List<String> payloads = payloads(out);
        assertThat(payloads).hasSize(s.packets.size());
        assertThat(payloads.get(3)).isEqualTo("POST /pay HTTP/1.1\r\nAuthorization: **************\r\nCookie: ***\r\n"
                + "Content-Length: 21\r\n\r\ncard=****************");
        for (byte[] ip : ipPackets(out)) {
            assertThat(TestSession.tcpChecksum(ip)).as("checksum over a valid segment sums to 0").isZero();
        }
        for (int i = 0; i < in.size(); i++) {
            boolean secret = payloads(List.of(out.get(i))).stream().anyMatch(p -> p.startsWith("POST"));
            assertThat(out.get(i).value().length).isEqualTo(in.get(i).value().length);
            if (!secret) {
                assertThat(out.get(i).value()).as("records without a secret go out unchanged").isEqualTo(in.get(i).value());
            }
        }
        assertThat(counters.of("a").fieldsRedacted()).isEqualTo(3);
        List<TestRecord<byte[], byte[]>> plain = out("plain");
        assertThat(payloads(plain).get(3)).isEqualTo(req);
        assertThat(plain).as("the input headers only: no header is added without amplify")
                .allSatisfy(r -> assertThat(r.headers().toArray()).extracting(h -> h.key())
                        .containsExactly(RecordHeaderNames.SOURCE));
        assertThat(plain.stream().map(TestRecord::value).toList())
                .containsExactlyElementsOf(in.stream().map(TestSession.Packet::value).toList());
    }

    @Test
    void undecodableRecordsGoToTheDeadLetterTopicAndProcessingGoesOn() {
        start("{name: a, sources: [web1]}");
        TestSession s = session(46000, get("/ok"));
        TestInputTopic<byte[], byte[]> in = input("web1");
        in.pipeInput(s.packets.get(0).key(), new byte[] {1, 2, 3});
        in.pipeInput(new byte[] {9}, s.packets.get(0).value());
        pipe("web1", s);
        List<TestRecord<byte[], byte[]>> dead = driver.createOutputTopic(Topics.DEADLETTER,
                new ByteArrayDeserializer(), new ByteArrayDeserializer()).readRecordsToList();
        assertThat(dead).hasSize(2);
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.DEADLETTER_REASON).value()))
                .isEqualTo("undecodable");
        assertThat(new String(dead.get(1).headers().lastHeader(DeadLetterHeaders.DEADLETTER_REASON).value()))
                .isEqualTo("bad-flow-key");
        assertThat(dead.get(0).headers().lastHeader(DeadLetterHeaders.DEADLETTER_TOPIC).value())
                .isEqualTo("tb.capture.web1".getBytes());
        assertThat(dead.get(0).value()).isEqualTo(new byte[] {1, 2, 3});
        assertThat(counters.deadLettersByReason()).containsEntry("undecodable", 1L).containsEntry("bad-flow-key", 1L);
        assertThat(packetCount(out("a"))).isEqualTo(s.packets.size());
    }

    @Test
    void aPacketThatIsNotTcpIsDeadLetteredAloneAndTheRestOfItsRecordGoesOn() {
        start("{name: a, sources: [web1]}", "{name: h, sources: [web1], filter: {http: {methods: [GET]}}}");
        TestSession s = session(46100, get("/ok"));
        byte[] truncated = Arrays.copyOf(s.packets.get(3).ip(), 30); // cut inside the TCP header
        byte[] bad = CapturedPacketCodec.encodePacket(s.packets.get(3).micros(), Direction.CLIENT_TO_SERVER,
                truncated, 0, truncated.length, truncated.length, 99);
        CapturedPacketCodec.Builder b = new CapturedPacketCodec.Builder();
        for (int i = 0; i < 4; i++) {
            b.add(s.packets.get(i).encoded());
        }
        b.add(bad);
        byte[] mixed = b.build();
        pipeRecords("web1", List.of(new TestSession.Packet(s.packets.get(0).key(), mixed, s.packets.get(0).micros(),
                true, null, null, 0)));
        pipeRecords("web1", TestSession.batch(s.packets.subList(4, s.packets.size()), 4));
        List<TestRecord<byte[], byte[]>> dead = driver.createOutputTopic(Topics.DEADLETTER,
                new ByteArrayDeserializer(), new ByteArrayDeserializer()).readRecordsToList();
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.DEADLETTER_REASON).value()))
                .isEqualTo("packet-truncated");
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.DEADLETTER_PACKET).value()))
                .isEqualTo("4");
        assertThat(ipPackets(dead)).containsExactly(truncated);
        List<byte[]> expected = s.packets.stream().map(TestSession.Packet::ip).toList();
        assertThat(ipPackets(out("a"))).containsExactlyElementsOf(expected);
        assertThat(ipPackets(out("h"))).containsExactlyElementsOf(expected);
        assertThat(counters.of("a").packetsIn()).isEqualTo(s.packets.size());
        assertThat(counters.deadLettersByReason()).containsEntry("packet-truncated", 1L);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void aReusedFourTupleStartsANewSession(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1], sample: 50%}");
        Set<Boolean> outcomes = new HashSet<>();
        int expectedRecords = 0;
        for (int i = 0; i < 40; i++) {
            // Same client port every time, a new initial sequence number: a new session each time.
            TestSession s = new TestSession(new int[] {10, 0, 0, 2}, 47000, new int[] {10, 0, 0, 1}, 80,
                    1000L + i * 100_003L, clock += 10_000).handshake().client(get("/" + i)).close();
            int before = out("a").size();
            pipe("web1", s);
            List<TestRecord<byte[], byte[]>> got = out("a");
            outcomes.add(!got.isEmpty());
            assertThat(packetCount(got)).isIn(0, s.packets.size());
            expectedRecords += got.size();
            assertThat(before).isZero();
        }
        assertThat(outcomes).as("decided per session, not once per 4-tuple").containsExactlyInAnyOrder(true, false);
        assertThat(counters.of("a").sessionsIn()).isEqualTo(40);
        assertThat(counters.of("a").recordsOut()).isEqualTo(expectedRecords);
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void combinedRulesAndLiveChanges(int batch) {
        this.batch = batch;
        start("""
                name: combo
                sources: [web1]
                filter:
                  server-ports: [80]
                  http: {methods: [GET], allow-url: ['^/api/']}
                sample: 100%
                amplify: 2
                redact: {headers: [User-Agent]}
                """);
        pipe("web1", session(48001, get("/api/a")), session(48002, get("/home")));
        List<TestRecord<byte[], byte[]>> out = out("combo");
        assertThat(ports(out)).containsExactly(48001);
        assertThat(out.stream().map(SubscriptionTopologyTest::copy).collect(Collectors.toSet())).containsExactly(0, 1);
        assertThat(payloads(out).stream().filter(p -> p.startsWith("GET")))
                .containsExactly(get("/api/a").replace("test/1", "******"), get("/api/a").replace("test/1", "******"));
        // Added while running: takes effect for the next packets; removed: stops.
        registry.put(SubscriptionParser.parseOne("{name: late, sources: [web1]}"));
        pipe("web1", session(48003, get("/x")));
        assertThat(ports(out("late"))).containsExactly(48003);
        registry.remove("late");
        pipe("web1", session(48004, get("/y")));
        assertThat(out("late")).isEmpty();
    }

    @ParameterizedTest(name = "up to {0} packets per record")
    @ValueSource(ints = {1, 4})
    void theSameSessionOnTwoSourcesIsDecidedPerSource(int batch) {
        this.batch = batch;
        start("{name: a, sources: [web1, web2], filter: {http: {allow-url: ['^/api/']}}}");
        TestSession s = session(49000, get("/api/x"));
        pipe("web1", s);
        pipe("web2", s);
        assertThat(packetCount(out("a"))).isEqualTo(2 * s.packets.size());
        assertThat(counters.of("a").sessionsKept()).isEqualTo(2);
    }
}
