package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where records and sessions do not line up: a first request split over records, a SYN inside a record, a reused
 * 4-tuple, and records or packets that do not decode, which are dead-lettered while the rest goes on.
 */
class RecordBoundaryTopologyTest extends TopologyFixture {
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

    @Test
    void undecodableRecordsGoToTheDeadLetterTopicAndProcessingGoesOn() {
        start("{name: a, sources: [web1]}");
        TestSession s = session(46000, get("/ok"));
        TestInputTopic<byte[], byte[]> in = input("web1");
        in.pipeInput(s.packets.get(0).key(), new byte[] {1, 2, 3});
        in.pipeInput(new byte[] {9}, s.packets.get(0).value());
        pipe("web1", s);
        List<TestRecord<byte[], byte[]>> dead = deadLetters();
        assertThat(dead).hasSize(2);
        assertThat(header(dead.get(0), DeadLetterHeaders.DEADLETTER_REASON)).isEqualTo("undecodable");
        assertThat(header(dead.get(1), DeadLetterHeaders.DEADLETTER_REASON)).isEqualTo("bad-flow-key");
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
        List<TestRecord<byte[], byte[]>> dead = deadLetters();
        assertThat(dead).hasSize(1);
        assertThat(header(dead.get(0), DeadLetterHeaders.DEADLETTER_REASON)).isEqualTo("packet-truncated");
        assertThat(header(dead.get(0), DeadLetterHeaders.DEADLETTER_PACKET)).isEqualTo("4");
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
}
