package dev.trafficbus.capture;

import dev.trafficbus.packet.LinkLayer;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import dev.trafficbus.bus.TestKafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Imports the real fixtures into a real single-node KRaft broker and reads them back with a plain consumer. */
class PcapForwarderKafkaTest {
    private static TestKafkaCluster cluster;

    @TempDir
    Path temp;

    @BeforeAll
    static void startBroker() throws Exception {
        ForwardMain.quietClientLogs(); // as bin/trafficbus forward runs, so stderr holds what a user sees
        cluster = TestKafkaCluster.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Properties kafka() {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        return p;
    }

    private static ForwardSummary forward(String fixture, String source, Set<Integer> ports) {
        return PcapForwarder.forward(new PcapForwardRequest(Fixtures.path(fixture), ports, source, kafka(), false));
    }

    @Test
    void ethernetMixIsPublishedPacketForPacketWithKeysSequencesAndHeaders() throws Exception {
        Fixtures.Expected e = Fixtures.ETHERNET;
        ForwardSummary s = forward(e.file(), "eth", Set.of(8080));

        assertThat(s.topic()).isEqualTo("tb.capture.eth");
        assertThat(s.packetsRead()).isEqualTo(e.total());
        assertThat(s.packetsPublished()).isEqualTo(e.published());
        assertThat(s.publishErrors()).isZero();
        assertThat(s.fileTruncated()).isFalse();
        assertThat(s.skippedByReason()).containsExactly(
                Map.entry("not-ip", (long) e.notIp()), Map.entry("not-tcp", (long) e.notTcp()),
                Map.entry("ip-fragment", (long) e.fragments()), Map.entry("truncated", 0L),
                Map.entry("malformed", 0L), Map.entry("not-port", (long) e.notPort()), Map.entry("link-type", 0L),
                Map.entry("timestamp-out-of-range", 0L), Map.entry("oversized", 0L));
        assertThat(s.packetsPublished() + s.packetsSkipped()).isEqualTo(s.packetsRead());
        assertThat(s.summaryLine()).startsWith("forward eth: 79 packets read, 50 published in ")
                .endsWith("; skipped: not-ip 2, not-tcp 11, ip-fragment 4, not-port 12");

        List<ConsumerRecord<byte[], byte[]>> records = readAll("tb.capture.eth");
        List<TopicPackets.Packet> packets = TopicPackets.of(records);
        assertThat(packets).hasSize(e.published());
        assertThat(s.recordsPublished()).isEqualTo(records.size());
        assertThat(s.summaryLine()).contains(" published in " + records.size() + " records to ");
        assertThat(s.bytesPublished()).isEqualTo(records.stream()
                .mapToLong(r -> r.key().length + r.value().length).sum());
        // The packets of a connection that arrive within the window share records.
        assertThat(records.size()).isLessThan(packets.size());
        assertThat(packets).anyMatch(p -> p.count() > 1);

        // Sequence numbers are consecutive without gaps across partitions, from this run's base (its start time).
        List<Long> sequences = packets.stream().map(TopicPackets.Packet::sequence).sorted().toList();
        long first = sequences.get(0);
        assertThat(first).isEqualTo(SequenceNumbers.runBase(SequenceNumbers.runStartMillis(first)));
        assertThat(SequenceNumbers.runStartMillis(first)).isBetween(System.currentTimeMillis() - 600_000,
                System.currentTimeMillis());
        assertThat(sequences).isEqualTo(java.util.stream.LongStream.range(first, first + e.published()).boxed().toList());

        PacketView view = new PacketView();
        Map<FlowKey, Set<Direction>> directionsByFlow = new HashMap<>();
        Map<FlowKey, Integer> partitionByFlow = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            assertThat(header(r, RecordHeaderNames.SOURCE)).isEqualTo("eth".getBytes(StandardCharsets.UTF_8));
            assertThat(header(r, RecordHeaderNames.SCHEMA_FINGERPRINT)).isEqualTo(CapturedPacketCodec.fingerprintHeaderValue());
        }
        long previousMicros = 0;
        for (TopicPackets.Packet p : packets) {
            ConsumerRecord<byte[], byte[]> r = p.record();
            assertThat(view.wrap(p.ip(), 0, p.ip().length)).isEqualTo(PacketStatus.TCP);
            assertThat(p.originalLength()).isEqualTo(p.ip().length).isEqualTo(view.ipLength());
            // The record time is its first packet's; the packets of a record are in capture order.
            if (p.index() == 0) {
                assertThat(r.timestamp()).isEqualTo(p.micros() / 1000);
            } else {
                assertThat(p.micros()).isGreaterThanOrEqualTo(previousMicros);
            }
            previousMicros = p.micros();
            // A record never spans two connections: a client SYN only first, an RST only last (a FIN may be followed
            // by the peer's FIN and the last ACK).
            if (view.hasFlag(PacketView.SYN) && !view.hasFlag(PacketView.ACK)) {
                assertThat(p.index()).as("client SYN starts its record").isZero();
            }
            if (view.hasFlag(PacketView.RST)) {
                assertThat(p.index()).as("RST ends its record").isEqualTo(p.count() - 1);
            }
            boolean c2s = p.direction() == Direction.CLIENT_TO_SERVER;
            assertThat(c2s ? view.dstPort() : view.srcPort()).isEqualTo(8080);
            // The key computed from the packet itself, in its own direction, is the record key.
            assertThat(r.key()).isEqualTo(FlowKey.keyBytes(view, c2s));
            FlowKey flow = FlowKey.parse(r.key());
            assertThat(flow.serverPort()).isEqualTo(8080);
            directionsByFlow.computeIfAbsent(flow, k -> new HashSet<>()).add(p.direction());
            assertThat(partitionByFlow.computeIfAbsent(flow, k -> r.partition())).isEqualTo(r.partition());
        }
        // Both directions of each connection share one key: 3 IPv4 connections and 1 IPv6 one.
        assertThat(directionsByFlow).hasSize(e.connections());
        assertThat(directionsByFlow.values()).allSatisfy(d ->
                assertThat(d).containsExactlyInAnyOrder(Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT));
        assertThat(directionsByFlow.keySet().stream().map(FlowKey::ipVersion).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder(4, 6);

        // Within a flow, packets keep capture order across its records.
        Map<FlowKey, List<TopicPackets.Packet>> byFlow = packets.stream()
                .collect(Collectors.groupingBy(p -> FlowKey.parse(p.record().key())));
        for (List<TopicPackets.Packet> flowPackets : byFlow.values()) {
            List<Long> seqInOffsetOrder = flowPackets.stream()
                    .sorted(Comparator.comparingLong((TopicPackets.Packet p) -> p.record().offset())
                            .thenComparingInt(TopicPackets.Packet::index))
                    .map(TopicPackets.Packet::sequence).toList();
            assertThat(seqInOffsetOrder).isSorted();
        }
    }

    @Test
    void onePacketPerRecordWithBatchMaxPacketsOne() throws Exception {
        Fixtures.Expected e = Fixtures.ETHERNET;
        String[] out = new String[2];
        int code = runCommand(out, "--pcap", Fixtures.path(e.file()).toString(), "--port", "8080", "--source", "single",
                "--bootstrap-servers", cluster.bootstrapServers(), "--batch-max-packets", "1");
        assertThat(code).isZero();
        assertThat(out[0]).contains(e.published() + " published in " + e.published() + " records to tb.capture.single");
        List<ConsumerRecord<byte[], byte[]>> records = readAll("tb.capture.single");
        assertThat(records).hasSize(e.published());
        assertThat(TopicPackets.of(records)).hasSize(e.published()).allMatch(p -> p.count() == 1);
    }

    @Test
    void everyLinkTypeFixtureImportsItsServicePackets() throws Exception {
        for (Fixtures.Expected e : Fixtures.ALL) {
            if (e == Fixtures.ETHERNET) {
                continue; // checked record by record above
            }
            String source = e.file().replace('.', '-');
            ForwardSummary s = forward(e.file(), source, Set.of(8080));
            assertThat(s.packetsRead()).as(e.file()).isEqualTo(e.total());
            assertThat(s.packetsPublished()).as(e.file()).isEqualTo(e.published());
            assertThat(s.skippedByReason().get("not-port")).as(e.file()).isEqualTo(e.notPort());
            assertThat(s.skippedByReason().get("truncated")).as(e.file()).isEqualTo(e.truncated());
            List<ConsumerRecord<byte[], byte[]>> records = readAll("tb.capture." + source);
            assertThat(TopicPackets.of(records)).as(e.file()).hasSize(e.published());
            assertThat(records.stream().map(r -> FlowKey.parse(r.key())).distinct().count())
                    .as(e.file()).isEqualTo(e.connections());
        }
    }

    @Test
    void twoServicePortsTakeBothServersAndAnExistingTopicIsAppendedTo() throws Exception {
        Fixtures.Expected e = Fixtures.SLL2;
        ForwardSummary first = forward(e.file(), "two-ports", Set.of(8080, 9000));
        assertThat(first.packetsPublished()).isEqualTo(e.published() + e.notPort());
        assertThat(first.skippedByReason().get("not-port")).isZero();
        ForwardSummary second = forward(e.file(), "two-ports", Set.of(8080, 9000));
        assertThat(second.packetsPublished()).isEqualTo(first.packetsPublished());
        List<ConsumerRecord<byte[], byte[]>> records = readAll("tb.capture.two-ports");
        assertThat(TopicPackets.of(records)).hasSize(2 * (e.published() + e.notPort()));
        Set<Integer> serverPorts = records.stream().map(r -> FlowKey.parse(r.key()).serverPort()).collect(Collectors.toSet());
        assertThat(serverPorts).containsExactlyInAnyOrder(8080, 9000);
    }

    @Test
    void commandPrintsTheSummaryAndExitsZero() {
        String[] out = new String[2];
        int code = runCommand(out, "--pcap", Fixtures.path("raw.pcap").toString(), "--port", "8080",
                "--bootstrap-servers", cluster.bootstrapServers());
        assertThat(code).isZero();
        // The source defaults to the file name without extension.
        assertThat(out[0].strip()).matches("forward raw: 42 packets read, 27 published in \\d+ records to tb.capture.raw \\(.*")
                .endsWith("; skipped: not-tcp 2, not-port 13");
        assertThat(out[1]).isEmpty();
    }

    @Test
    void aStopMidFilePublishesExactlyWhatWasReadAndCountsIt() throws Exception {
        // What Ctrl-C/SIGTERM does to `forward`: stop reading at the next packet, publish and count what was read.
        int[] asked = {0};
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(Fixtures.path(Fixtures.ETHERNET.file()),
                Set.of(8080), "stopped", kafka(), false), () -> ++asked[0] > 30);

        assertThat(s.packetsRead()).isEqualTo(30);
        assertThat(s.packetsPublished() + s.packetsSkipped()).isEqualTo(30);
        assertThat(s.publishErrors()).isZero();
        assertThat(TopicPackets.of(readAll("tb.capture.stopped"))).hasSize((int) s.packetsPublished());
    }

    @Test
    void recordsWithImpossibleTimestampsAreCountedAsMalformedNotLost() throws Exception {
        // Record 0: microseconds field of 2,000,000 (pcap4j throws inside libpcap's callback);
        // record 1: seconds field 0x80000000, a time before 1970 that Kafka would refuse.
        byte[] bytes = Files.readAllBytes(Fixtures.path("ethernet.pcap"));
        int first = 24;
        int second = first + 16 + littleEndianInt(bytes, first + 8);
        putLittleEndianInt(bytes, first + 4, 2_000_000);
        putLittleEndianInt(bytes, second, 0x80000000);
        Path bad = temp.resolve("bad-times.pcap");
        Files.write(bad, bytes);
        PacketClassifier classifier = new PacketClassifier(LinkLayer.ETHERNET, Set.of(8080));
        List<Fixtures.Frame> frames = Fixtures.frames("ethernet.pcap");
        long expectedPublished = 0;
        for (Fixtures.Frame f : frames.subList(2, frames.size())) {
            expectedPublished += classifier.classify(f.bytes(), f.bytes().length, f.wireLength()) == null ? 1 : 0;
        }

        String[] out = new String[2];
        int code = runCommand(out, "--pcap", bad.toString(), "--port", "8080", "--source", "badtimes",
                "--bootstrap-servers", cluster.bootstrapServers());

        assertThat(code).isZero();
        assertThat(out[1]).doesNotContain("Exception");
        assertThat(out[0]).contains("forward badtimes: " + frames.size() + " packets read, " + expectedPublished
                + " published").contains("malformed 2");
        assertThat(TopicPackets.of(readAll("tb.capture.badtimes"))).hasSize((int) expectedPublished);
    }

    @Test
    void aPacketTheTopicWouldRefuseIsCountedAndItsNeighboursArePublished() throws Exception {
        // One service packet moved to 2038: the broker's default message.timestamp.after.max.ms (one hour) refuses
        // it, and once it failed its whole batch with it ("4 packets read, 0 published ... 4 publish errors").
        Path mixed = withServicePacketAt(FUTURE_2038);
        String[] out = new String[2];
        int code = runCommand(out, "--pcap", mixed.toString(), "--port", "8080", "--source", "future",
                "--bootstrap-servers", cluster.bootstrapServers());

        Fixtures.Expected e = Fixtures.ETHERNET;
        assertThat(code).as(out[1]).isZero();
        assertThat(out[1]).doesNotContain("Exception");
        assertThat(out[0]).contains("forward future: " + e.total() + " packets read, " + (e.published() - 1)
                + " published").contains("timestamp-out-of-range 1").doesNotContain("publish errors");
        assertThat(TopicPackets.of(readAll("tb.capture.future"))).hasSize((int) e.published() - 1);
    }

    @Test
    void aTopicThatTakesAnyTimePublishesThe2038Packet() throws Exception {
        try (var admin = cluster.kit().admin()) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("tb.capture.anytime", 6, (short) 1)
                    .configs(Map.of("message.timestamp.after.max.ms", Long.toString(Long.MAX_VALUE))))).all().get();
        }
        Path mixed = withServicePacketAt(FUTURE_2038);
        String[] out = new String[2];
        int code = runCommand(out, "--pcap", mixed.toString(), "--port", "8080", "--source", "anytime",
                "--bootstrap-servers", cluster.bootstrapServers());

        assertThat(code).as(out[1]).isZero();
        assertThat(out[0]).contains(Fixtures.ETHERNET.published() + " published").doesNotContain("timestamp-out-of-range 1");
        assertThat(TopicPackets.of(readAll("tb.capture.anytime"))).hasSize((int) Fixtures.ETHERNET.published());
    }

    /** 2038-01-01T00:00:00Z, in seconds. */
    private static final int FUTURE_2038 = 2_145_916_800;

    /** ethernet.pcap with only the seconds field of its first port-8080 TCP packet changed to {@code seconds}. */
    private Path withServicePacketAt(int seconds) throws Exception {
        byte[] bytes = Files.readAllBytes(Fixtures.path("ethernet.pcap"));
        PacketClassifier classifier = new PacketClassifier(LinkLayer.ETHERNET, Set.of(8080));
        int offset = 24;
        for (Fixtures.Frame f : Fixtures.frames("ethernet.pcap")) {
            if (classifier.classify(f.bytes(), f.bytes().length, f.wireLength()) == null) {
                putLittleEndianInt(bytes, offset, seconds);
                Path changed = temp.resolve("at-" + seconds + ".pcap");
                Files.write(changed, bytes);
                return changed;
            }
            offset += 16 + littleEndianInt(bytes, offset + 8);
        }
        throw new AssertionError("ethernet.pcap holds no port-8080 packet");
    }

    private static void putLittleEndianInt(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }

    @Test
    void truncatedFilePublishesWhatWasCompleteAndExitsTwo() throws Exception {
        // Cut ethernet.pcap in the middle of its 30th record; the 29 records before it are complete.
        byte[] whole = Files.readAllBytes(Fixtures.path("ethernet.pcap"));
        int keep = 29;
        int offset = 24;
        for (int i = 0; i < keep; i++) {
            offset += 16 + littleEndianInt(whole, offset + 8);
        }
        Path cut = temp.resolve("cut.pcap");
        Files.write(cut, Arrays.copyOf(whole, offset + 16 + 10));
        int expectedPublished = 0;
        PacketClassifier classifier = new PacketClassifier(LinkLayer.ETHERNET, Set.of(8080));
        for (Fixtures.Frame f : Fixtures.frames("ethernet.pcap").subList(0, keep)) {
            expectedPublished += classifier.classify(f.bytes(), f.bytes().length, f.wireLength()) == null ? 1 : 0;
        }

        String[] out = new String[2];
        int code = runCommand(out, "--pcap", cut.toString(), "--port", "8080", "--source", "cut",
                "--bootstrap-servers", cluster.bootstrapServers());
        assertThat(code).isEqualTo(2);
        assertThat(out[1].strip()).isEqualTo("trafficbus forward: file " + cut + " is truncated after " + keep
                + " packets; published what was complete");
        assertThat(out[0]).contains("forward cut: " + keep + " packets read, " + expectedPublished + " published")
                .contains("file truncated");
        assertThat(TopicPackets.of(readAll("tb.capture.cut"))).hasSize(expectedPublished);
    }

    @Test
    void packetsLargerThanTheTopicTakesAreCountedNotRefused() throws Exception {
        // A topic whose batches may hold at most 400 bytes, and no compression: before, the broker refused the
        // records of the bigger HTTP segments (RecordTooLargeException, exit 1); now no packet of the port fits
        // beside the record framing, and each is counted as oversized before it is sent.
        try (var admin = cluster.kit().admin()) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("tb.capture.small", 6, (short) 1)
                    .configs(Map.of("max.message.bytes", "400")))).all().get();
        }
        String[] out = new String[2];
        int code = runCommand(out, "--pcap", Fixtures.path("ethernet.pcap").toString(), "--port", "8080",
                "--source", "small", "--bootstrap-servers", cluster.bootstrapServers(),
                "--producer-property", "compression.type=none", "--batch-max-packets", "1");
        assertThat(code).as(out[1]).isZero();
        String summary = out[0].strip();
        assertThat(summary).contains(" 0 published in 0 records").doesNotContain("publish errors")
                .contains("oversized " + Fixtures.ETHERNET.published());
        assertThat(out[1].strip()).isEmpty();
        assertThat(readAll("tb.capture.small")).isEmpty();
    }

    @Test
    void unreachableBrokerIsAUserErrorWithinTheBlockBound() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + closedPort);
        p.put("max.block.ms", "2000");
        long start = System.nanoTime();
        assertThatThrownBy(() -> PcapForwarder.forward(new PcapForwardRequest(Fixtures.path("raw.pcap"), Set.of(8080),
                "nowhere", p, false)))
                .isInstanceOf(UserInputException.class)
                .hasMessageStartingWith("no Kafka broker answered at 127.0.0.1:" + closedPort + " within 2 s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }

    /** Runs the command as bin/trafficbus would (without System.exit); out[0] = stdout, out[1] = stderr. */
    static int runCommand(String[] out, String... args) {
        CommandOutput run = CommandOutput.run(new ForwardCommand(), args);
        out[0] = run.out();
        out[1] = run.err();
        return run.exitCode();
    }

    private static int littleEndianInt(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }

    private static byte[] header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        assertThat(h).as("header " + name).isNotNull();
        return h.value();
    }

    /** Every record of the topic, read up to the end offsets taken now. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return readAll(cluster.bootstrapServers(), topic);
    }

    /** Every record of the topic on the broker at {@code bootstrapServers}, read up to the end offsets taken now. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrapServers, String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            assertThat(partitions).hasSize(TopicOptions.DEFAULT_PARTITIONS);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("read " + topic + " to its end within 30 s").isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
