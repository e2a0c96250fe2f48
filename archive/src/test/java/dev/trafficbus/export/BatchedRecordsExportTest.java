package dev.trafficbus.export;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Records of several packets, grouped the way a live forwarder groups them, exported from a real Kafka broker: every
 * packet of every record is written, in capture-time order across partitions, also where the records of two
 * partitions overlap in time and where a record was published later than the reorder window allows for.
 */
class BatchedRecordsExportTest {
    private static final int PORT = 8080;
    private static final String INTERLEAVED = "tb.capture.batched";
    private static final String LATE = "tb.sub.ooo";
    private static TestKafkaCluster cluster;
    /** The fixture's packets with each session moved to start 250 µs after the previous one, in time order. */
    private static List<PcapFiles.Frame> frames;
    private static List<CaptureBatches.Batch> batches;
    /** Partition (0 or 1) of each packet of {@link #frames}. */
    private static int[] partitionOfFrame;
    /** Session number of each flow, in order of first packet: even ones go to partition 0, odd ones to 1. */
    private static final Map<FlowKey, Integer> session = new HashMap<>();

    @TempDir
    Path temp;

    @BeforeAll
    static void startBrokerAndPublish() throws Exception {
        ExportMain.quietClientLogs();
        cluster = TestKafkaCluster.start();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(keptForever(INTERLEAVED, 2), keptForever(LATE, 1))).all().get();
        }
        // The fixture's sessions follow one another; moved closer, the sessions overlap and their packets interleave
        // as on a busy server. Bytes stay as captured, only the capture times move.
        List<PcapFiles.Frame> all = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT);
        PacketView view = new PacketView();
        Map<FlowKey, Long> shift = new HashMap<>();
        long t0 = all.get(0).micros();
        List<PcapFiles.Frame> moved = new ArrayList<>();
        for (PcapFiles.Frame f : all) {
            view.wrap(f.ip(), 0, f.ip().length, f.wireLength());
            FlowKey flow = FlowKey.of(view, view.dstPort() == PORT);
            int index = session.computeIfAbsent(flow, k -> session.size());
            long by = shift.computeIfAbsent(flow, k -> t0 + index * 250L - f.micros());
            moved.add(new PcapFiles.Frame(f.micros() + by, f.etherType(), f.srcMac(), f.ip(), f.wireLength()));
        }
        moved.sort(Comparator.comparingLong(PcapFiles.Frame::micros));
        frames = moved;
        partitionOfFrame = new int[frames.size()];
        for (int i = 0; i < frames.size(); i++) {
            PcapFiles.Frame f = frames.get(i);
            view.wrap(f.ip(), 0, f.ip().length, f.wireLength());
            FlowKey flow = FlowKey.of(view, view.dstPort() == PORT);
            partitionOfFrame[i] = session.get(flow) % 2;
        }
        batches = CaptureBatches.group(frames, PORT, 4, 5_000);
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig())) {
            for (CaptureBatches.Batch b : batches) {
                sent.add(producer.send(new ProducerRecord<>(INTERLEAVED, partitionOf(b), b.timestampMillis(), b.key(),
                        b.value())));
            }
        }
        for (Future<RecordMetadata> f : sent) {
            f.get();
        }
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static int partitionOf(CaptureBatches.Batch b) {
        return session.get(FlowKey.parse(b.key())) % 2;
    }

    private static NewTopic keptForever(String topic, int partitions) {
        return new NewTopic(topic, partitions, (short) 1).configs(Map.of("retention.ms", "-1"));
    }

    private static Properties producerConfig() {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        return p;
    }

    private CommandOutput export(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--bootstrap-servers";
        all[args.length + 1] = cluster.bootstrapServers();
        return CommandOutput.run(new ExportCommand(), all);
    }

    @Test
    void packetsOfOverlappingRecordsOfTwoPartitionsComeOutCompleteAndInCaptureTimeOrder() throws Exception {
        // The fixture must be what the test is about: records of several packets, partitions that interleave.
        assertThat(frames).hasSize(210);
        assertThat(batches.size()).isLessThan(150);
        assertThat(batches.stream().filter(b -> b.packets() >= 3).count()).isGreaterThan(10);
        int switches = 0;
        for (int i = 1; i < partitionOfFrame.length; i++) {
            switches += partitionOfFrame[i] != partitionOfFrame[i - 1] ? 1 : 0;
        }
        assertThat(switches).isGreaterThan(20);
        // ... and record timestamps that go back within a partition, as when a FIN closes a batch early.
        long[] last = {Long.MIN_VALUE, Long.MIN_VALUE};
        int backwards = 0;
        for (CaptureBatches.Batch b : batches) {
            int partition = partitionOf(b);
            backwards += b.firstMicros() < last[partition] ? 1 : 0;
            last[partition] = Math.max(last[partition], b.firstMicros());
        }
        assertThat(backwards).isPositive();

        Path out = temp.resolve("batched.pcap");
        CommandOutput r = export("--topic", INTERLEAVED, "-o", out.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains(INTERLEAVED + " (start to end): " + batches.size() + " records read (210 packets),"
                + " 210 packets written").doesNotContain("out-of-order").doesNotContain("skipped");
        PcapFiles.assertSameFrames(PcapFiles.read(out), frames);
        // tcpdump reads the same file: every packet, capture times never going back.
        List<Long> times = PcapFiles.tcpdumpMicros(out);
        assertThat(times).hasSize(210).isSorted();
        assertThat(times).isEqualTo(frames.stream().map(PcapFiles.Frame::micros).toList());
    }

    @Test
    void aWindowIsDecidedPerPacketAlsoInsideARecordStampedBeforeItsStart() throws Exception {
        // A record stamped (in ms) before --from whose later packets are inside the window: those packets are found.
        CaptureBatches.Batch straddling = batches.stream()
                .filter(b -> Math.floorDiv(b.lastMicros(), 1000L) > b.timestampMillis())
                .filter(b -> b.firstMicros() > frames.get(20).micros())
                .findFirst().orElseThrow(() -> new AssertionError("the fixture has no record spanning a millisecond"));
        long from = straddling.lastMicros();
        long to = from + 20_000;
        List<PcapFiles.Frame> expected = frames.stream().filter(f -> f.micros() >= from && f.micros() < to).toList();
        assertThat(expected.size()).isBetween(10, 200);
        Path out = temp.resolve("window.pcap");

        TimeWindow window = TimeWindow.parse(iso(from), iso(to));
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        ExportSummary s = new PcapExporter(p, INTERLEAVED, window, out, Duration.ofSeconds(1),
                new ProgressDisplay(System.err, false), () -> false).run();

        PcapFiles.assertSameFrames(PcapFiles.read(out), expected);
        assertThat(s.packetsWritten()).isEqualTo(expected.size());
        assertThat(s.outOfOrder()).isZero();
        assertThat(s.packetsRead()).isEqualTo(s.packetsWritten() + s.outsideWindow() + s.packetsSkipped());
        assertThat(s.outsideWindow()).isPositive();
    }

    @Test
    void aRecordLaterThanTheReorderWindowIsWrittenAndCountedAsOutOfOrder() throws Exception {
        // One partition: a record of t+2 s, one of t+5 s, then a record of t published 5 s late (a forwarder or
        // processor that held it back). With the default 1 s window the packets before t+4 s are written when the
        // t+5 s record is merged, so the late record's packets come after them.
        long t = Instant.parse("2026-01-01T00:00:00Z").getEpochSecond() * 1_000_000L;
        List<PcapFiles.Frame> ip = frames.subList(0, 5);
        long[][] records = {{t + 2_000_000, t + 2_000_100}, {t + 5_000_000}, {t, t + 100}};
        int next = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig())) {
            CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();
            for (long[] times : records) {
                for (long time : times) {
                    byte[] b = ip.get(next).ip();
                    builder.add(CapturedPacketCodec.encodePacket(time, Direction.CLIENT_TO_SERVER, b, 0, b.length,
                            b.length, next++));
                }
                producer.send(new ProducerRecord<>(LATE, 0, times[0] / 1000, null, builder.build())).get();
            }
        }
        Path out = temp.resolve("late.pcap");
        CommandOutput r = export("--topic", LATE, "-o", out.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("3 records read (5 packets), 5 packets written").contains("; out-of-order 2 (");
        assertThat(PcapFiles.tcpdumpMicros(out)).containsExactly(t + 2_000_000, t + 2_000_100, t, t + 100, t + 5_000_000);

        // A window wider than the lateness puts them in order.
        Path wide = temp.resolve("wide.pcap");
        CommandOutput w = export("--topic", LATE, "--reorder-window", "10s", "-o", wide.toString());
        assertThat(w.exitCode()).as(w.err()).isZero();
        assertThat(w.out()).contains("5 packets written").doesNotContain("out-of-order");
        assertThat(PcapFiles.tcpdumpMicros(wide)).containsExactly(t, t + 100, t + 2_000_000, t + 2_000_100, t + 5_000_000);
    }


    private static String iso(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L).toString();
    }
}
