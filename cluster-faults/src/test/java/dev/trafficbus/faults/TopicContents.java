package dev.trafficbus.faults;

import dev.trafficbus.bus.CopyHeader;
import dev.trafficbus.bus.RecordHeaderNames;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** What topics hold, read committed, and raw copies of capture topics. */
final class TopicContents {
    private TopicContents() {
    }

    /** Partition to end offset (the last stable offset for a reader that sees committed records only). */
    static Map<Integer, Long> ends(ThreeBrokers cluster, String topic) throws Exception {
        try (Admin admin = cluster.admin()) {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<Integer, Long> out = new TreeMap<>();
            admin.listOffsets(latest, new org.apache.kafka.clients.admin.ListOffsetsOptions(
                            org.apache.kafka.common.IsolationLevel.READ_COMMITTED)).all().get(30, TimeUnit.SECONDS)
                    .forEach((tp, o) -> out.put(tp.partition(), o.offset()));
            return out;
        }
    }

    /** The committed records of {@code topic} from {@code from} (per partition; absent: 0) to its end now. */
    static List<ConsumerRecord<byte[], byte[]>> read(ThreeBrokers cluster, String topic, Map<Integer, Long> from)
            throws Exception {
        Map<Integer, Long> to = ends(cluster, topic);
        Properties p = cluster.clientConfig();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = to.keySet().stream().map(n -> new TopicPartition(topic, n)).toList();
            consumer.assign(tps);
            for (TopicPartition tp : tps) {
                consumer.seek(tp, from.getOrDefault(tp.partition(), 0L));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < to.get(tp.partition()))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to " + to + " within 60 s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() < to.get(r.partition())) {
                        out.add(r);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Per session copy (source number, flow key and copy index), the values of its records in topic order: what a
     * subscription topic says about each session, whatever partition and offset it landed on. The source number is
     * the digits that end the source header, so sources "x-ref1" and "x-1" count as one.
     */
    static Map<String, List<String>> bySession(List<ConsumerRecord<byte[], byte[]>> records) {
        HexFormat hex = HexFormat.of();
        Map<String, List<String>> out = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Header source = r.headers().lastHeader(RecordHeaderNames.SOURCE);
            String name = source == null ? "" : new String(source.value(), StandardCharsets.UTF_8);
            String session = name.replaceAll(".*?(\\d*)$", "$1") + "/" + hex.formatHex(r.key()) + "/"
                    + CopyHeader.decode(r.headers());
            out.computeIfAbsent(session, k -> new ArrayList<>()).add(hex.formatHex(r.value()));
        }
        return out;
    }

    /**
     * Copies every record of capture topic {@code from} to {@code to} as it is (partition, key, value, timestamp,
     * headers), but for the source header, which names {@code source}: the same capture as a second source, down to
     * the forwarder's sequence numbers that session decisions hash.
     */
    static long copyCapture(ThreeBrokers cluster, String from, String to, String source) throws Exception {
        Properties p = cluster.clientConfig();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        List<ConsumerRecord<byte[], byte[]>> records = read(cluster, from, Map.of());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                RecordHeaders headers = new RecordHeaders();
                for (Header h : r.headers()) {
                    headers.add(h.key(), h.key().equals(RecordHeaderNames.SOURCE)
                            ? source.getBytes(StandardCharsets.UTF_8) : h.value());
                }
                producer.send(new ProducerRecord<>(to, r.partition(), r.timestamp(), r.key(), r.value(), headers));
            }
            producer.flush();
        }
        return records.size();
    }
}
