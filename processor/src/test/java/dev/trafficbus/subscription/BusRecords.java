package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/** Reads whole topics of a real broker and groups their records by session, for the end-to-end tests. */
final class BusRecords {
    private BusRecords() {
    }

    /** Every record the topic holds now (empty when the topic does not exist). */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("enable.auto.commit", "false");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var infos = c.listTopics(Duration.ofSeconds(10)).get(topic);
            if (infos == null) {
                return out;
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!SubscriptionStore.caughtUp(c, end) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** Session id of a record: source, flow key and copy index. */
    static String session(ConsumerRecord<byte[], byte[]> r) {
        Header src = r.headers().lastHeader(RecordHeaderNames.SOURCE);
        Header copy = r.headers().lastHeader(RecordHeaderNames.COPY);
        return (src == null ? "?" : new String(src.value(), StandardCharsets.UTF_8)) + "/"
                + HexFormat.of().formatHex(r.key()) + "/" + (copy == null ? 0 : ByteBuffer.wrap(copy.value()).getInt());
    }

    /** Packets per session id (a record holds one or more packets). */
    static Map<String, Integer> sessions(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, Integer> out = new TreeMap<>();
        CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            out.merge(session(r), reader.read(r.value()).packetCount(), Integer::sum);
        }
        return out;
    }

    /** Per flow key (hex): the records' values and header names (hex, in order). */
    static Map<String, List<String>> valuesByFlow(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, List<String>> out = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            StringBuilder headers = new StringBuilder();
            r.headers().forEach(h -> headers.append(h.key()).append(' '));
            out.computeIfAbsent(HexFormat.of().formatHex(r.key()), k -> new ArrayList<>())
                    .add(HexFormat.of().formatHex(r.value()) + " " + headers.toString().trim());
        }
        return out;
    }

    /** Client port of a record's flow key (IPv4 or IPv6). */
    static int clientPort(byte[] key) {
        return ((key[key.length - 2] & 0xFF) << 8) | (key[key.length - 1] & 0xFF);
    }
}
