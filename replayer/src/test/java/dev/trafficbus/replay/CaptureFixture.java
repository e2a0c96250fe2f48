package dev.trafficbus.replay;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real capture from testdata/ (made by tcpdump of curl against nginx), read with pcap4j and published the
 * way the forwarder does: consecutive packets of a flow in one value, flow key, record time = first packet's
 * capture time, source header.
 */
public final class CaptureFixture {
    /** One TCP packet of the service port. */
    record Packet(long micros, byte[] ip, boolean clientToServer, int clientPort, boolean clientSyn) {
    }

    /** Lines of {@code file} counted by what {@code key} makes of them (null: not counted), as in {@link PathCounts}. */
    public static Map<String, Long> countLines(Path file, java.util.function.Function<String, String> key)
            throws Exception {
        Map<String, Long> m = new java.util.TreeMap<>();
        for (String line : java.nio.file.Files.readAllLines(file)) {
            String k = key.apply(line);
            if (k != null) {
                m.merge(k, 1L, Long::sum);
            }
        }
        return m;
    }

    /** A fixture's .expected file: the captured service's port, and how many requests each path had there. */
    public record PathCounts(int port, Map<String, Long> paths) {
        public long requests() {
            return paths.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Reads testdata/{@code name}.expected: a line "port N", then one "PATH COUNT" line per path. */
    public static PathCounts pathCounts(String name) throws Exception {
        int port = 0;
        Map<String, Long> paths = new java.util.TreeMap<>();
        for (String line : java.nio.file.Files.readAllLines(testdata().resolve(name + ".expected"))) {
            String[] f = line.split(" ");
            if (f[0].equals("port")) {
                port = Integer.parseInt(f[1]);
            } else {
                paths.put(f[0], Long.parseLong(f[1]));
            }
        }
        return new PathCounts(port, paths);
    }

    /** One request line of the .expected file. */
    record Expected(int clientPort, String method, String path, long bodyBytes, String bodySha256) {
    }

    static final int SERVICE_PORT = 8080;
    final List<Packet> packets;
    final List<Expected> expected;

    private CaptureFixture(List<Packet> packets, List<Expected> expected) {
        this.packets = packets;
        this.expected = expected;
    }

    public static Path testdata() {
        Path here = Paths.get("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("testdata/http-sessions.pcap"))) {
                return p.resolve("testdata");
            }
        }
        throw new IllegalStateException("testdata/ not found above " + here);
    }

    /** The TCP packets of {@code name}.pcap to and from {@code servicePort}, without an .expected file. */
    static CaptureFixture packetsOf(String name, int servicePort) throws Exception {
        return new CaptureFixture(read(name, servicePort), List.of());
    }

    private static List<Packet> read(String name, int servicePort) throws Exception {
        List<Packet> packets = new ArrayList<>();
        PacketView v = new PacketView();
        try (PcapHandle h = Pcaps.openOffline(testdata().resolve(name + ".pcap").toString(),
                PcapHandle.TimestampPrecision.MICRO)) {
            while (true) {
                byte[] b;
                try {
                    b = h.getNextRawPacketEx();
                } catch (EOFException e) {
                    break;
                }
                Timestamp t = h.getTimestamp();
                long micros = Math.floorDiv(t.getTime(), 1000L) * 1_000_000L + t.getNanos() / 1000;
                int etherType = ((b[12] & 0xFF) << 8) | (b[13] & 0xFF);
                if (etherType != 0x0800 && etherType != 0x86DD) {
                    continue;
                }
                byte[] ip = Arrays.copyOfRange(b, 14, b.length);
                if (v.wrap(ip, 0, ip.length, ip.length) != PacketStatus.TCP) {
                    continue;
                }
                boolean c2s = v.dstPort() == servicePort;
                if (!c2s && v.srcPort() != servicePort) {
                    continue;
                }
                boolean syn = c2s && v.hasFlag(PacketView.SYN) && !v.hasFlag(PacketView.ACK);
                packets.add(new Packet(micros, ip, c2s, c2s ? v.srcPort() : v.dstPort(), syn));
            }
        }
        return packets;
    }

    /** Reads {@code name}.pcap and {@code name}.expected. */
    static CaptureFixture load(String name) throws Exception {
        List<Packet> packets = read(name, SERVICE_PORT);
        List<Expected> expected = new ArrayList<>();
        for (String line : Files.readAllLines(testdata().resolve(name + ".expected"))) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            String path = f[2].replaceFirst("^https?://[^/]+", "");
            expected.add(new Expected(Integer.parseInt(f[0]), f[1], path, Long.parseLong(f[3]), f[4]));
        }
        return new CaptureFixture(packets, expected);
    }

    /** The same capture with only the packets {@code keep} accepts. */
    CaptureFixture filtered(java.util.function.Predicate<Packet> keep) {
        return new CaptureFixture(packets.stream().filter(keep).toList(), expected);
    }

    /** Capture time of each session's SYN by client port, in capture order. */
    Map<Integer, Long> synTimes() {
        Map<Integer, Long> m = new LinkedHashMap<>();
        for (Packet p : packets) {
            if (p.clientSyn()) {
                m.putIfAbsent(p.clientPort(), p.micros());
            }
        }
        return m;
    }

    /**
     * Publishes every packet, grouped into records as a forwarder does; with {@code copies} > 1 each record also
     * as copies 1.. with the tb.copy header. Returns the records published per copy.
     */
    int publish(String bootstrap, String topic, String source, int copies) {
        return publish(bootstrap, topic, source, copies, CaptureBatcher.DEFAULT_MAX_PACKETS);
    }

    /** As {@link #publish(String, String, String, int)} with at most {@code maxPacketsPerRecord} packets per record. */
    int publish(String bootstrap, String topic, String source, int copies, int maxPacketsPerRecord) {
        List<CaptureBatcher.Record> records = CaptureBatcher.group(packets.stream()
                .map(pk -> new CaptureBatcher.Packet(pk.micros(), pk.clientToServer(), pk.ip())).toList(),
                maxPacketsPerRecord);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(TestKafka.orderedProducer(bootstrap))) {
            for (CaptureBatcher.Record rec : records) {
                for (int copy = 0; copy < copies; copy++) {
                    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null,
                            Math.floorDiv(rec.firstTsMicros(), 1000L), rec.key(), rec.value());
                    r.headers().add(RecordHeaderNames.SOURCE, source.getBytes(StandardCharsets.UTF_8));
                    r.headers().add(RecordHeaderNames.SCHEMA_FINGERPRINT, CapturedPacketCodec.fingerprintHeaderValue());
                    if (copy > 0) {
                        r.headers().add(RecordHeaderNames.COPY, ByteBuffer.allocate(4).putInt(copy).array());
                    }
                    producer.send(r);
                }
            }
            producer.flush();
        }
        return records.size();
    }
}
