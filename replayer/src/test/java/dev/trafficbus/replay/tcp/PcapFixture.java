package dev.trafficbus.replay.tcp;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.CaptureBatcher;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * Reads a committed tcpdump fixture (Ethernet link type) and publishes its TCP packets as a forwarder would
 * (several per record).
 */
final class PcapFixture {
    record Packet(long tsMicros, byte[] ip, boolean clientToServer) {
    }

    private PcapFixture() {
    }

    /** The IPv4/IPv6 TCP packets of {@code resource}; server→client is decided by {@code serverPort}. */
    static List<Packet> read(String resource, int serverPort) throws IOException {
        byte[] all;
        try (InputStream in = PcapFixture.class.getResourceAsStream("/tcp/" + resource)) {
            if (in == null) {
                throw new IOException("no fixture " + resource);
            }
            all = in.readAllBytes();
        }
        return parse(resource, all, serverPort);
    }

    /** As {@link #read(String, int)} for a pcap file on disk. */
    static List<Packet> read(java.nio.file.Path file, int serverPort) throws IOException {
        return parse(file.toString(), java.nio.file.Files.readAllBytes(file), serverPort);
    }

    private static List<Packet> parse(String resource, byte[] all, int serverPort) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(all);
        int magic = b.getInt(0);
        if (magic == 0xd4c3b2a1) {
            b.order(ByteOrder.LITTLE_ENDIAN);
        } else if (magic != 0xa1b2c3d4) {
            throw new IOException(resource + " is not a microsecond pcap file");
        }
        int linkType = b.getInt(20);
        if (linkType != 1) {
            throw new IOException(resource + ": link type " + linkType + ", expected Ethernet");
        }
        List<Packet> out = new ArrayList<>();
        PacketView v = new PacketView();
        int p = 24;
        while (p + 16 <= all.length) {
            long ts = (b.getInt(p) & 0xffffffffL) * 1_000_000L + (b.getInt(p + 4) & 0xffffffffL);
            int caplen = b.getInt(p + 8);
            int frame = p + 16;
            p = frame + caplen;
            int etherType = ((all[frame + 12] & 0xff) << 8) | (all[frame + 13] & 0xff);
            if (etherType != 0x0800 && etherType != 0x86dd) {
                continue;
            }
            byte[] ip = Arrays.copyOfRange(all, frame + 14, frame + caplen);
            if (v.wrap(ip, 0, ip.length) != PacketStatus.TCP) {
                continue;
            }
            out.add(new Packet(ts, ip, v.srcPort() != serverPort));
        }
        return out;
    }

    /**
     * Publishes the packets to {@code topic} grouped into records as a forwarder does (timestamped with their capture
     * time), with header {@code tb.copy}
     * = copy when copy > 0; returns the records published.
     */
    static int publish(String bootstrap, String topic, List<Packet> packets, int copy) {
        return publish(bootstrap, topic, packets, copy, CaptureBatcher.DEFAULT_MAX_PACKETS);
    }

    /** As {@link #publish(String, String, List, int)} with at most {@code maxPacketsPerRecord} packets per record. */
    static int publish(String bootstrap, String topic, List<Packet> packets, int copy, int maxPacketsPerRecord) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        List<CaptureBatcher.Record> records = CaptureBatcher.group(packets.stream()
                .map(pk -> new CaptureBatcher.Packet(pk.tsMicros(), pk.clientToServer(), pk.ip())).toList(),
                maxPacketsPerRecord);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (CaptureBatcher.Record rec : records) {
                // Timestamped with the capture time, as a forwarder does: a --from/--to window finds records by it.
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null,
                        Math.floorDiv(rec.firstTsMicros(), 1000L), rec.key(), rec.value());
                r.headers().add(RecordHeaderNames.SOURCE, "fixture".getBytes(StandardCharsets.UTF_8));
                r.headers().add(RecordHeaderNames.SCHEMA_FINGERPRINT, CapturedPacketCodec.fingerprintHeaderValue());
                if (copy > 0) {
                    r.headers().add(RecordHeaderNames.COPY, ByteBuffer.allocate(4).putInt(copy).array());
                }
                producer.send(r);
            }
            producer.flush();
        }
        return records.size();
    }
}
