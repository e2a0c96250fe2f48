package dev.trafficbus.capture;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes records of one source to its capture topic: flow key, a {@link CapturedPacketCodec} value of one or
 * more packets of that flow (see {@link FlowBatcher}), source and schema headers; hands out the per-source packet
 * sequence (see {@link SequenceNumbers}). Counts the packets the broker acknowledged and those that failed (and
 * the acknowledged records); never throws for a failed record.
 */
public final class CapturePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CapturePublisher.class);
    /** Default bound on how long a send may block on metadata or a full buffer. */
    public static final int DEFAULT_MAX_BLOCK_MS = 30_000;

    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    // Shared by every record: ProducerRecord copies the references, and the producer only reads them.
    private final RecordHeaders headers;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong recordsPublished = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong bytesPublished = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicReference<String> neighbourError = new AtomicReference<>();
    private volatile boolean brokerUnavailable;
    private final long firstSequence;
    private long sequence; // touched only by the thread that reads packets

    /**
     * Opens a producer with {@link #producerSettings} of {@code producerConfig}; a setting Kafka rejects
     * is a {@link UserInputException}.
     */
    public CapturePublisher(String topic, String source, Properties producerConfig) {
        this.topic = topic;
        this.firstSequence = SequenceNumbers.runBase(System.currentTimeMillis());
        this.sequence = firstSequence;
        this.headers = new RecordHeaders(new Header[] {
            new RecordHeader(RecordHeaderNames.SOURCE, source.getBytes(StandardCharsets.UTF_8)),
            new RecordHeader(RecordHeaderNames.SCHEMA_FINGERPRINT, CapturedPacketCodec.fingerprintHeaderValue())
        });
        try {
            this.producer = new KafkaProducer<>(producerSettings(producerConfig, "trafficbus-forward-" + source));
        } catch (KafkaException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UserInputException("Kafka producer settings refused: " + cause.getMessage(), e);
        }
    }

    /**
     * Checks the producer settings of {@code producerConfig} as the constructor would, without starting a producer
     * or reaching a broker: the user error names the setting Kafka refuses.
     */
    public static void checkSettings(Properties producerConfig, String source) {
        try {
            new ProducerConfig(producerSettings(producerConfig, "trafficbus-forward-" + source));
        } catch (KafkaException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UserInputException("Kafka producer settings refused: " + cause.getMessage(), e);
        }
    }

    /**
     * The producer configuration: the user's, with the serializers and delivery guarantees the bus
     * relies on forced, and tuning defaults (compression, batching, blocking bound) the user may override.
     */
    public static Properties producerSettings(Properties producerConfig, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        // At import rates a 16 KB batch (the default) fills in a few ms and multiplies produce requests;
        // P1_BATCH_SIZES in bench/p1-forward.sh compares sizes on a given machine.
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Integer.toString(DEFAULT_MAX_BLOCK_MS));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.putAll(producerConfig);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        // Per-flow order and no duplicates are part of the bus contract; a user setting cannot weaken them.
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return p;
    }

    /**
     * The record of a value of packets of flow {@code key}; its time is the first packet's capture time, so
     * consumers can seek a time range with offsetsForTimes.
     */
    public ProducerRecord<byte[], byte[]> record(byte[] key, byte[] value, long firstMicros) {
        return new ProducerRecord<>(topic, null, Math.floorDiv(firstMicros, 1000L), key, value, headers);
    }

    /**
     * Encodes the whole IP packet of a {@link PacketView} ({@link CapturedPacketCodec#encodePacketInto}) into one
     * array reused for every packet: the pending ring or the flow batcher copies the bytes at once, so a packet
     * costs no allocation. One thread.
     */
    static final class PacketEncoder {
        private byte[] bytes = new byte[2048];

        /** Encodes the packet in {@code view} into {@link #bytes()}; returns its length. */
        int encode(long timestampMicros, boolean clientToServer, PacketView view, long sequence) {
            int length = view.ipLength();
            int size = CapturedPacketCodec.encodedPacketSize(timestampMicros, clientToServer, length, length, sequence);
            if (size > bytes.length) {
                bytes = new byte[Math.max(size, bytes.length * 2)];
            }
            return CapturedPacketCodec.encodePacketInto(bytes, 0, timestampMicros, clientToServer, view.array(),
                    view.ipOffset(), length, length, sequence);
        }

        /** The array the last {@link #encode} wrote, from index 0. */
        byte[] bytes() {
            return bytes;
        }
    }

    /**
     * Hands a record of {@code packets} packets to the producer; false (and its packets counted as failed) when
     * the producer refused it at once.
     */
    public boolean send(ProducerRecord<byte[], byte[]> record, int packets) {
        int bytes = record.key().length + record.value().length;
        try {
            producer.send(record, new TrackedDelivery(packets, bytes, 0, 0, null));
            return true;
        } catch (KafkaException e) {
            recordFailure(e, packets);
            return false;
        }
    }

    /**
     * Live capture: publishes a record of {@code packets} packets of flow {@code key}, telling {@code listener}
     * its fate (exactly once, possibly on the producer's thread) with {@code pendingBytes}. Never throws for a
     * refused record.
     */
    public void send(byte[] key, byte[] value, long firstMicros, int packets, long pendingBytes,
                     DeliveryListener listener) {
        ProducerRecord<byte[], byte[]> record = record(key, value, firstMicros);
        try {
            producer.send(record, new TrackedDelivery(packets, key.length + value.length, pendingBytes, firstMicros,
                    listener));
        } catch (KafkaException | IllegalStateException e) {
            // IllegalStateException: the producer was closed because the flush time after a stop ran out.
            recordFailure(e, packets);
            listener.failed(pendingBytes);
        }
    }

    /** What a live capture learns about each record it handed over: how many pending bytes it no longer holds. */
    public interface DeliveryListener {
        /** The broker acknowledged a record whose packets held {@code pendingBytes}; its first was captured then. */
        void acknowledged(long pendingBytes, long firstMicros);

        /** The record whose packets held {@code pendingBytes} failed (its packets counted in {@link #failed()}). */
        void failed(long pendingBytes);
    }

    /** The callback of one record: counts its packets and tells the listener, if any. */
    private final class TrackedDelivery implements Callback {
        private final int packets;
        private final int bytes;
        private final long pendingBytes;
        private final long firstMicros;
        private final DeliveryListener listener;

        TrackedDelivery(int packets, int bytes, long pendingBytes, long firstMicros, DeliveryListener listener) {
            this.packets = packets;
            this.bytes = bytes;
            this.pendingBytes = pendingBytes;
            this.firstMicros = firstMicros;
            this.listener = listener;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception e) {
            if (e == null) {
                published.addAndGet(packets);
                recordsPublished.incrementAndGet();
                bytesPublished.addAndGet(bytes);
                if (listener != null) {
                    listener.acknowledged(pendingBytes, firstMicros);
                }
            } else {
                recordFailure(e, packets);
                if (listener != null) {
                    listener.failed(pendingBytes);
                }
            }
        }
    }

    /** Counts packets whose records were built but never handed to the producer (publishing stopped first). */
    public void countUnsent(long packets) {
        failed.addAndGet(packets);
    }

    private void recordFailure(Exception e, int packets) {
        failed.addAndGet(packets);
        if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
            // No broker took records for max.block.ms or delivery.timeout.ms (this covers a full buffer too).
            // send() reports this only through the callback; without the flag every further record would block
            // for max.block.ms again.
            brokerUnavailable = true;
        }
        if (isBatchNeighbour(e)) {
            // Says only that another record of the batch was refused; that record's own failure names the reason.
            neighbourError.compareAndSet(null, reason(e));
            return;
        }
        String reason = reason(e);
        if (firstError.compareAndSet(null, reason)) {
            LOG.warn("publishing to {} failed: {} (further failures are counted, not logged)", topic, reason);
        }
    }

    /**
     * The broker refuses a batch record by record: the refused ones carry its reason, the others of the batch only a
     * plain KafkaException saying they shared the batch.
     */
    private static boolean isBatchNeighbour(Exception e) {
        return e.getClass() == KafkaException.class && e.getCause() == null && e.getMessage() != null
                && e.getMessage().contains("part of a batch");
    }

    /** The innermost cause's type and message: the broker's reason, not the wrapper the client put around it. */
    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** True once a record timed out waiting for Kafka: sending more only waits and fails the same way. */
    public boolean brokerUnavailable() {
        return brokerUnavailable;
    }

    /**
     * Fetches the topic's partitions now, so later sends never wait for metadata: a live capture that starts
     * just before the broker goes away then keeps its records pending instead of failing them.
     */
    public void loadMetadata() {
        try {
            producer.partitionsFor(topic);
        } catch (KafkaException e) {
            throw new UserInputException("cannot read the partitions of " + topic + ": " + e.getMessage(), e);
        }
    }

    /** Waits until every sent record is acknowledged or failed. */
    public void flush() {
        producer.flush();
        String neighbour = neighbourError.get();
        if (neighbour != null && firstError.compareAndSet(null, neighbour)) {
            LOG.warn("publishing to {} failed: {} (further failures are counted, not logged)", topic, neighbour);
        }
    }

    /** The sequence number of this run's first record (see {@link SequenceNumbers}). */
    public long firstSequence() {
        return firstSequence;
    }

    /** Takes the next sequence number: for a packet that is published, or that is dropped before (leaving a gap). */
    public long nextSequence() {
        return sequence++;
    }

    /** Packets in the records the broker acknowledged. */
    public long published() {
        return published.get();
    }

    /** Records the broker acknowledged. */
    public long recordsPublished() {
        return recordsPublished.get();
    }

    /** Packets whose records failed, at send or on delivery, or were never sent. */
    public long failed() {
        return failed.get();
    }

    /** Key plus value bytes of the acknowledged records. */
    public long bytesPublished() {
        return bytesPublished.get();
    }

    /** The first failure's reason (the broker's, when it named one), or null. */
    public String firstError() {
        String reason = firstError.get();
        return reason != null ? reason : neighbourError.get();
    }

    /** Closes the producer, giving records still in flight up to 30 s. */
    @Override
    public void close() {
        producer.close(Duration.ofSeconds(30));
    }

    /**
     * Closes the producer, giving records still queued or in flight up to {@code grace}; those left then fail
     * (counted in {@link #failed()}, their listeners told) before this returns.
     */
    public void close(Duration grace) {
        producer.close(grace.isNegative() ? Duration.ZERO : grace);
    }
}
