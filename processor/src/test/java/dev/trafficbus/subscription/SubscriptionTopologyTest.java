package dev.trafficbus.subscription;

import dev.trafficbus.bus.RecordHeaderNames;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every subscription rule and their combinations, on the real topology in a TopologyTestDriver. The rule tests
 * run twice: on one-packet records and on records of up to four packets of a flow, grouped as the forwarder does.
 */
class SubscriptionTopologyTest extends TopologyFixture {
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
