package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.bus.Topics;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The real subscription topology in a TopologyTestDriver, with capture records piped in as the forwarder writes
 * them ({@link #batch} packets of a flow per record at most) and the subscriptions' records read back as packets.
 */
abstract class TopologyFixture {
    @TempDir
    Path stateDir;
    ProcessorCounters counters;
    SubscriptionRegistry registry;
    TopologyTestDriver driver;
    long clock = 1_700_000_000_000_000L;
    /** Most packets per input record. */
    int batch = 1;

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
    }

    void start(String... yamls) {
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

    TestInputTopic<byte[], byte[]> input(String source) {
        return driver.createInputTopic("tb.capture." + source, new ByteArraySerializer(), new ByteArraySerializer());
    }

    void pipe(String source, List<TestSession.Packet> packets) {
        pipeRecords(source, TestSession.batch(packets, batch));
    }

    /** Pipes the records as they are (no batching). */
    void pipeRecords(String source, List<TestSession.Packet> records) {
        TestInputTopic<byte[], byte[]> in = input(source);
        for (TestSession.Packet p : records) {
            RecordHeaders h = new RecordHeaders();
            h.add(RecordHeaderNames.SOURCE, source.getBytes(StandardCharsets.UTF_8));
            in.pipeInput(new TestRecord<>(p.key(), p.value(), h, Instant.ofEpochMilli(p.micros() / 1000)));
        }
    }

    void pipe(String source, TestSession... sessions) {
        for (TestSession s : sessions) {
            pipe(source, s.packets);
        }
    }

    List<TestRecord<byte[], byte[]>> out(String name) {
        return read("tb.sub." + name);
    }

    /** The records dead-lettered since the last call. */
    List<TestRecord<byte[], byte[]>> deadLetters() {
        return read(Topics.DEADLETTER);
    }

    private List<TestRecord<byte[], byte[]>> read(String topic) {
        return driver.createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                .readRecordsToList();
    }

    /** Header {@code name} of {@code r} as text (the dead-letter headers are). */
    static String header(TestRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    TestSession session(int port, String request) {
        clock += 10_000;
        return TestSession.exchange(port, clock, request);
    }

    static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: t\r\nUser-Agent: test/1\r\n\r\n";
    }

    /** The copy index: the tb.copy header (absent = 0). */
    static int copy(TestRecord<byte[], byte[]> r) {
        var h = r.headers().lastHeader(RecordHeaderNames.COPY);
        return h == null ? 0 : ByteBuffer.wrap(h.value()).getInt();
    }

    /** The IP packets of the records, in order. */
    static List<byte[]> ipPackets(List<TestRecord<byte[], byte[]>> records) {
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

    static int packetCount(List<TestRecord<byte[], byte[]>> records) {
        return ipPackets(records).size();
    }

    /** TCP payloads (as text) of the records' packets, in order. */
    static List<String> payloads(List<TestRecord<byte[], byte[]>> records) {
        return ipPackets(records).stream().map(ip -> new String(ip, 40, ip.length - 40, StandardCharsets.ISO_8859_1))
                .toList();
    }

    static int clientPort(TestRecord<byte[], byte[]> r) {
        return ((r.key()[11] & 0xFF) << 8) | (r.key()[12] & 0xFF);
    }

    static Set<Integer> ports(List<TestRecord<byte[], byte[]>> records) {
        return records.stream().map(TopologyFixture::clientPort).collect(Collectors.toSet());
    }

}
