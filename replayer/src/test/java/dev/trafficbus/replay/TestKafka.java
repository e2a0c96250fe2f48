package dev.trafficbus.replay;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.session.Conversation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** A real single-node Kafka cluster for the engine tests, and a producer that publishes test conversations to it. */
public final class TestKafka implements AutoCloseable {
    private final TestKafkaCluster cluster;

    public TestKafka() throws Exception {
        cluster = TestKafkaCluster.start();
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    public Properties consumerConfig() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers());
        return p;
    }

    public void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /**
     * Publishes the packets of all conversations in capture-time order, grouped into records as a forwarder
     * does, then {@code extraValues} as records of their own; returns how many records of packets were published.
     */
    public int publish(String topic, List<Conversation.Packet> packets, List<byte[]> extraValues) {
        return publish(topic, packets, extraValues, CaptureBatcher.DEFAULT_MAX_PACKETS);
    }

    /** As {@link #publish(String, List, List)} with at most {@code maxPacketsPerRecord} packets per record. */
    public int publish(String topic, List<Conversation.Packet> packets, List<byte[]> extraValues, int maxPacketsPerRecord) {
        List<CaptureBatcher.Packet> ordered = packets.stream()
                .sorted(Comparator.comparingLong(Conversation.Packet::tsMicros))
                .map(p -> new CaptureBatcher.Packet(p.tsMicros(), p.clientToServer(), p.bytes())).toList();
        List<CaptureBatcher.Record> records = CaptureBatcher.group(ordered, maxPacketsPerRecord);
        publishRecords(topic, records, extraValues);
        return records.size();
    }

    /** Publishes {@code records} as they are, then {@code extraValues} as records of their own. */
    public void publishRecords(String topic, List<CaptureBatcher.Record> records, List<byte[]> extraValues) {
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (CaptureBatcher.Record rec : records) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, rec.key(), rec.value());
                r.headers().add(RecordHeaderNames.SOURCE, "test".getBytes(StandardCharsets.UTF_8));
                r.headers().add(RecordHeaderNames.SCHEMA_FINGERPRINT, CapturedPacketCodec.fingerprintHeaderValue());
                producer.send(r);
            }
            for (byte[] value : extraValues) {
                producer.send(new ProducerRecord<>(topic, new byte[] {4}, value));
            }
            producer.flush();
        }
    }

    /**
     * Byte-array producer settings that keep records in the order sent: one request in flight, so a just-created
     * topic's leader change cannot leave the idempotent producer retrying an out-of-order sequence.
     */
    static Properties orderedProducer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        return p;
    }

    /**
     * Publishes {@code records} in the order given to {@code topic} on {@code bootstrap}, each timestamped with its
     * first packet's capture time as the forwarder does (capture times must be recent, or retention drops them).
     */
    static void publishAtCaptureTime(String bootstrap, String topic, List<CaptureBatcher.Record> records) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(orderedProducer(bootstrap))) {
            for (CaptureBatcher.Record rec : records) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null,
                        Math.floorDiv(rec.firstTsMicros(), 1000L), rec.key(), rec.value());
                r.headers().add(RecordHeaderNames.SOURCE, "test".getBytes(StandardCharsets.UTF_8));
                r.headers().add(RecordHeaderNames.SCHEMA_FINGERPRINT, CapturedPacketCodec.fingerprintHeaderValue());
                producer.send(r);
            }
            producer.flush();
        }
    }

    /** Writes one record to each partition in a transaction that is then aborted (read_committed skips them). */
    public void publishAborted(String topic, int partitions) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "aborted-" + topic);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < partitions; i++) {
                producer.send(new ProducerRecord<>(topic, i, new byte[] {1}, new byte[] {2}));
            }
            producer.flush();
            producer.abortTransaction();
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // One request in flight: a just-created topic's leader change then cannot leave the idempotent producer
        // retrying an out-of-order sequence (seen on a loaded machine).
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        return new KafkaProducer<>(p);
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }

    /**
     * Reads the JSON records of {@code topic} from the start until {@code expected} came or 15 s passed, then half a
     * second more (a duplicate would show); adds "key" (the record key) to each.
     */
    public static List<JsonNode> readJson(String bootstrap, String topic, int expected) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "reader-" + topic + "-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    com.fasterxml.jackson.databind.node.ObjectNode n =
                            (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(r.value());
                    n.put("key", new String(r.key(), StandardCharsets.UTF_8));
                    out.add(n);
                }
            }
            // Anything beyond the expected count would be a duplicate: give it a moment to show.
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                com.fasterxml.jackson.databind.node.ObjectNode n =
                        (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(r.value());
                n.put("key", new String(r.key(), StandardCharsets.UTF_8));
                out.add(n);
            }
        }
        return out;
    }
}
