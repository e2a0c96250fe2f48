package dev.trafficbus.export;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * pcap → forwarder → real Kafka → export → pcap: every TCP packet of the service port comes back byte for byte with
 * its capture time, merged over the topic's 6 partitions, and libpcap and tcpdump read the file.
 */
class ExportRoundTripTest {
    private static final int PORT = 8080;
    private static TestKafkaCluster cluster;

    @TempDir
    Path temp;

    @BeforeAll
    static void startBrokerAndForward() throws Exception {
        ExportMain.quietClientLogs();
        cluster = TestKafkaCluster.start();
        // The fixtures' capture times become the records' timestamps: without this, time-based retention (7 days by
        // default, first checked 30 s after the broker starts) would delete them once the fixtures are a week old.
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(keptForever("tb.capture.http", 6), keptForever("tb.capture.mixed", 6),
                    keptForever("tb.capture.single", 6), keptForever("tb.sub.txn", 2), keptForever("tb.sub.late", 1)))
                    .all().get();
        }
        forward(PcapFiles.testdata("http-sessions.pcap"), "http");
        forward(PcapFiles.testdata("mixed-frames.pcap"), "mixed");
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static NewTopic keptForever(String topic, int partitions) {
        return new NewTopic(topic, partitions, (short) 1).configs(Map.of("retention.ms", "-1"));
    }

    private static void forward(Path pcap, String source) {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(pcap, Set.of(PORT), source, p, false));
        assertThat(s.publishErrors()).isZero();
    }

    private CommandOutput export(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--bootstrap-servers";
        all[args.length + 1] = cluster.bootstrapServers();
        return CommandOutput.run(new ExportCommand(), all);
    }

    @Test
    void httpSessionsComeBackByteForByteInTimeOrderAndTcpdumpReadsThem() throws Exception {
        Path in = PcapFiles.testdata("http-sessions.pcap");
        Path out = temp.resolve("http.pcap");
        CommandOutput r = export("--topic", "tb.capture.http", "-o", out.toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.hasStackTrace()).isFalse();

        List<PcapFiles.Frame> expected = PcapFiles.tcpOfPort(PcapFiles.read(in), PORT);
        List<PcapFiles.Frame> actual = PcapFiles.read(out);
        assertThat(expected).hasSize(210);
        PcapFiles.assertSameFrames(actual, expected);
        // However the forwarder groups packets into records, every packet of every record is written.
        assertThat(r.out()).containsPattern("export tb\\.capture\\.http \\(start to end\\): \\d+ records read \\(210 packets\\),"
                + " 210 packets written to " + java.util.regex.Pattern.quote(out.toString())).doesNotContain("out-of-order");

        assertThat(PcapFiles.tcpdumpCount(out, null)).isEqualTo(210);
        assertThat(PcapFiles.tcpdumpCount(out, "tcp port 8080")).isEqualTo(210);
        assertThat(PcapFiles.tcpdumpCount(out, "tcp[tcpflags] & tcp-syn != 0")).isEqualTo(
                PcapFiles.tcpdumpCount(in, "tcp[tcpflags] & tcp-syn != 0"));
    }

    @Test
    void ipv4AndIpv6PacketsOfTheServicePortSurviveAMixedCapture() throws Exception {
        Path in = PcapFiles.testdata("mixed-frames.pcap");
        Path out = temp.resolve("mixed.pcap");
        assertThat(export("--topic", "tb.capture.mixed", "-o", out.toString()).exitCode()).isZero();

        List<PcapFiles.Frame> expected = PcapFiles.tcpOfPort(PcapFiles.read(in), PORT);
        List<PcapFiles.Frame> actual = PcapFiles.read(out);
        // Counts from testdata/mixed-frames.expected: 22 TCP packets of port 8080, 10 of them IPv6.
        assertThat(expected).hasSize(22);
        PcapFiles.assertSameFrames(actual, expected);
        assertThat(actual.stream().filter(f -> f.etherType() == 0x86DD)).hasSize(10);
        assertThat(PcapFiles.tcpdumpCount(out, "ip6 and tcp port 8080")).isEqualTo(10);
        assertThat(PcapFiles.tcpdumpCount(out, "ip and tcp port 8080")).isEqualTo(12);
    }

    @Test
    void aWindowExportsExactlyThePacketsCapturedInsideIt() throws Exception {
        List<PcapFiles.Frame> all = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT);
        long from = all.get(40).micros();
        long to = all.get(150).micros();
        List<PcapFiles.Frame> expected = all.stream().filter(f -> f.micros() >= from && f.micros() < to).toList();
        assertThat(expected.size()).isBetween(100, 120);
        Path out = temp.resolve("window.pcap");

        CommandOutput r = export("--topic", "tb.capture.http", "--from", iso(from), "--to", iso(to), "-o", out.toString());

        assertThat(r.exitCode()).isZero();
        PcapFiles.assertSameFrames(PcapFiles.read(out), expected);
        assertThat(r.out()).contains("(" + iso(from) + " to " + iso(to) + ")")
                .contains(expected.size() + " packets written");
        assertThat(PcapFiles.tcpdumpCount(out, null)).isEqualTo(expected.size());
    }

    @Test
    void recordsThatAreNotCapturedIpPacketsAreCountedBySkipReason() throws Exception {
        byte[] ip = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT).get(0).ip();
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            String topic = "tb.capture.junk";
            producer.send(new ProducerRecord<>(topic, CapturedPacketCodec.encode(1_000_000L, Direction.CLIENT_TO_SERVER,
                    ip, 0, ip.length, ip.length, 0))).get();
            producer.send(new ProducerRecord<>(topic, "not a captured packet".getBytes())).get();
            byte[] arp = new byte[28];
            producer.send(new ProducerRecord<>(topic, CapturedPacketCodec.encode(2_000_000L, Direction.CLIENT_TO_SERVER,
                    arp, 0, arp.length, arp.length, 1))).get();
        }
        Path out = temp.resolve("junk.pcap");
        CommandOutput r = export("--topic", "tb.capture.junk", "-o", out.toString());

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("3 records read (2 packets), 1 packets written")
                .contains("; packets skipped: not-ip 1; records skipped: undecodable 1");
        assertThat(PcapFiles.read(out)).singleElement().satisfies(f -> {
            assertThat(f.ip()).isEqualTo(ip);
            assertThat(f.micros()).isEqualTo(1_000_000L);
        });
    }

    @Test
    void abortedTransactionsAreNotExportedAndPartitionsEndingInMarkersFinish() throws Exception {
        // tb.sub.<name> topics of a processor run with --exactly-once are written in transactions. Partition 0 holds
        // only an aborted transaction, partition 1 an aborted then a committed one: both end in a control marker.
        String topic = "tb.sub.txn"; // 2 partitions, created with the others
        List<PcapFiles.Frame> frames = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT);
        Properties p = producerConfig();
        p.put("transactional.id", "export-test");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(packetRecord(topic, 0, frames.get(0))).get();
            producer.send(packetRecord(topic, 0, frames.get(1))).get();
            producer.send(packetRecord(topic, 1, frames.get(2))).get();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(packetRecord(topic, 1, frames.get(3))).get();
            producer.send(packetRecord(topic, 1, frames.get(4))).get();
            producer.commitTransaction();
        }
        Path out = temp.resolve("txn.pcap");
        CommandOutput r = export("--topic", topic, "-o", out.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("2 records read (2 packets), 2 packets written");
        PcapFiles.assertSameFrames(PcapFiles.read(out), frames.subList(3, 5));
    }

    @Test
    void aStopRequestWritesEveryRecordAlreadyReadAndSaysItStopped() throws Exception {
        // Records of one packet each, as an older forwarder published them, keyed by flow over 6 partitions.
        String topic = "tb.capture.single";
        List<PcapFiles.Frame> frames = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT);
        PacketView view = new PacketView();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig())) {
            for (PcapFiles.Frame f : frames) {
                view.wrap(f.ip(), 0, f.ip().length, f.wireLength());
                boolean c2s = view.dstPort() == PORT;
                byte[] value = CapturedPacketCodec.encode(f.micros(), c2s ? Direction.CLIENT_TO_SERVER
                        : Direction.SERVER_TO_CLIENT, f.ip(), 0, f.ip().length, f.wireLength(), 0);
                producer.send(new ProducerRecord<>(topic, null, f.micros() / 1000, FlowKey.keyBytes(view, c2s), value));
            }
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        // One record per poll: the stop comes while the merge still holds records it has read (210 records need
        // 210 polls; 60 leave time for a slow first fetch on a busy machine).
        p.put("max.poll.records", "1");
        AtomicInteger checks = new AtomicInteger();
        Path out = temp.resolve("stopped.pcap");
        ExportSummary s = new PcapExporter(p, topic, TimeWindow.ALL, out, Duration.ofSeconds(1),
                new ProgressDisplay(System.err, false), () -> checks.incrementAndGet() > 60).run();

        assertThat(s.stoppedEarly()).isTrue();
        assertThat(s.recordsRead()).isBetween(1L, 209L).isEqualTo(s.packetsRead());
        assertThat(s.packetsWritten() + s.outsideWindow() + s.packetsSkipped()).isEqualTo(s.packetsRead());
        List<PcapFiles.Frame> written = PcapFiles.read(out);
        assertThat(written).hasSize((int) s.packetsWritten());
        for (int i = 1; i < written.size(); i++) {
            assertThat(written.get(i).micros()).isGreaterThanOrEqualTo(written.get(i - 1).micros());
        }
        assertThat(s.summaryLine()).contains("stopped on request before the end of the window");
    }

    @Test
    void aTopicStampedWithAppendTimeIsReadWholeForAWindowInsteadOfSoughtByTime() throws Exception {
        // With message.timestamp.type=LogAppendTime the Kafka timestamps say when the broker stored a record, not when
        // it was captured: seeking by them would find no record of a window in the past.
        String topic = "tb.capture.appendtime";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                    .configs(Map.of("message.timestamp.type", "LogAppendTime")))).all().get();
        }
        List<PcapFiles.Frame> frames = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT);
        long t2020 = Instant.parse("2020-01-01T00:00:00Z").getEpochSecond() * 1_000_000L;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig())) {
            for (int i = 0; i < 3; i++) {
                byte[] ip = frames.get(i).ip();
                producer.send(new ProducerRecord<>(topic, 0, (t2020 + i * 1_000_000L) / 1000, null, CapturedPacketCodec.encode(
                        t2020 + i * 1_000_000L, Direction.CLIENT_TO_SERVER, ip, 0, ip.length, ip.length, i))).get();
            }
        }
        Path out = temp.resolve("appendtime.pcap");
        CommandOutput r = export("--topic", topic, "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-01T00:00:02Z",
                "-o", out.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("3 records read (3 packets), 2 packets written").contains("outside the window 1");
        assertThat(PcapFiles.read(out)).extracting(PcapFiles.Frame::micros).containsExactly(t2020, t2020 + 1_000_000L);
    }

    @Test
    void packetsPublishedLateAfterTheWindowsEndAreStillFound() throws Exception {
        // A processor holds a session's first packets until its request head arrives (up to --held-timeout, 30 s),
        // then publishes them with their capture times after packets captured later: a subscription topic is not in
        // time order, and the first record stamped after --to is not where the window's records end.
        String topic = "tb.sub.late";
        List<PcapFiles.Frame> frames = PcapFiles.tcpOfPort(PcapFiles.read(PcapFiles.testdata("http-sessions.pcap")), PORT);
        long t0 = frames.get(0).micros();
        long[] times = {t0, t0 + 3_000_000L, t0 + 1_500_000L};
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig())) {
            for (int i = 0; i < times.length; i++) {
                byte[] ip = frames.get(i).ip();
                producer.send(new ProducerRecord<>(topic, 0, times[i] / 1000, null, CapturedPacketCodec.encode(
                        times[i], Direction.CLIENT_TO_SERVER, ip, 0, ip.length, ip.length, i))).get();
            }
        }
        Path out = temp.resolve("late.pcap");
        CommandOutput r = export("--topic", topic, "--from", iso(t0), "--to", iso(t0 + 2_000_000L), "-o", out.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("3 records read (3 packets), 2 packets written").contains("outside the window 1");
        assertThat(PcapFiles.read(out)).extracting(PcapFiles.Frame::micros).containsExactly(t0, t0 + 1_500_000L);
    }

    private static Properties producerConfig() {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        return p;
    }

    private static ProducerRecord<byte[], byte[]> packetRecord(String topic, int partition, PcapFiles.Frame f) {
        byte[] value = CapturedPacketCodec.encode(f.micros(), Direction.CLIENT_TO_SERVER, f.ip(), 0, f.ip().length,
                f.wireLength(), 0);
        return new ProducerRecord<>(topic, partition, Math.floorDiv(f.micros(), 1000L), null, value);
    }

    @Test
    void badInputIsOneLineWithExitCode2() {
        Path out = temp.resolve("x.pcap");
        CommandOutput missing = export("--topic", "tb.capture.nope", "-o", out.toString());
        assertUserError(missing, "trafficbus export: topic tb.capture.nope does not exist at ");
        assertThat(out).doesNotExist();

        assertUserError(export("--topic", "tb.capture.http", "--from", "yesterday", "-o", out.toString()),
                "trafficbus export: --from 'yesterday' is not an ISO-8601 time with a zone");
        assertUserError(export("--topic", "tb.capture.http", "--to", "2026-11-21T14:00:00", "-o", out.toString()),
                "trafficbus export: --to '2026-11-21T14:00:00' is not an ISO-8601 time with a zone");
        assertUserError(export("--topic", "tb.capture.http", "--from", "2026-11-21T14:05:00Z",
                "--to", "2026-11-21T14:00:00Z", "-o", out.toString()), "is not before --to");
        assertUserError(export("--topic", "tb.capture.http", "-o", temp.resolve("no/such/dir/x.pcap").toString()),
                "does not exist");
        assertUserError(export("--topic", "tb.capture.http", "-o", temp.toString()), "is a directory");
        // An option value picocli cannot convert: the error line, then where to find the options.
        CommandOutput badWindow = export("--topic", "tb.capture.http", "--reorder-window", "soon", "-o", out.toString());
        assertThat(badWindow.exitCode()).isEqualTo(2);
        assertThat(badWindow.err().lines().findFirst()).hasValueSatisfying(l -> assertThat(l)
                .startsWith("trafficbus export: ").contains("--reorder-window").contains("'soon' is not a duration"));
        assertThat(badWindow.hasStackTrace()).isFalse();
    }

    private static void assertUserError(CommandOutput r, String text) {
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains(text);
        assertThat(r.err().lines().filter(l -> !l.isBlank()).count()).isEqualTo(1);
        assertThat(r.hasStackTrace()).isFalse();
    }


    private static String iso(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L).toString();
    }
}
