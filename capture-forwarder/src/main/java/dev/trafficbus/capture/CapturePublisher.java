package dev.trafficbus.capture;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.flow.FlowKey;
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
 * Publishes accepted packets of one source to its capture topic: flow key, {@link CapturedPacketCodec}
 * value, source and schema headers, a per-source sequence (see {@link SequenceNumbers}). Counts what the broker acknowledged
 * and what failed; never throws for a failed record.
 */
public final class CapturePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CapturePublisher.class);
    /** Default bound on how long a send may block on metadata or a full buffer. */
    public static final int DEFAULT_MAX_BLOCK_MS = 30_000;

    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    // Shared by every record: ProducerRecord copies the references, and the producer only reads them.
    private final RecordHeaders headers;
    private final Callback callback = this::onCompletion;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong bytesPublished = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private volatile boolean brokerUnavailable;
    private final long firstSequence;
    private long sequence; // touched only by the thread that builds records

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
     * Builds the record of the packet in {@code view} and gives it the next sequence number; call
     * {@link #send} with every record built, in order, possibly from another thread.
     */
    public ProducerRecord<byte[], byte[]> record(long timestampMicros, boolean clientToServer, PacketView view) {
        byte[] key = FlowKey.keyBytes(view, clientToServer);
        byte[] value = value(timestampMicros, clientToServer, view, sequence++);
        // The record time is the capture time, so consumers can seek a time range with offsetsForTimes.
        return new ProducerRecord<>(topic, null, Math.floorDiv(timestampMicros, 1000L), key, value, headers);
    }

    /** The record value of the whole IP packet in {@code view}: straight from the frame bytes, one allocation. */
    static byte[] value(long timestampMicros, boolean clientToServer, PacketView view, long sequence) {
        int length = view.ipLength();
        return CapturedPacketCodec.encode(timestampMicros,
                clientToServer ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT,
                view.array(), view.ipOffset(), length, length, sequence);
    }

    /** Hands a record to the producer; false (and counted as failed) when the producer refused it at once. */
    public boolean send(ProducerRecord<byte[], byte[]> record) {
        try {
            producer.send(record, callback);
            return true;
        } catch (KafkaException e) {
            recordFailure(e);
            return false;
        }
    }

    private void onCompletion(RecordMetadata metadata, Exception e) {
        if (e == null) {
            published.incrementAndGet();
            bytesPublished.addAndGet(Math.max(0, metadata.serializedKeySize()) + Math.max(0, metadata.serializedValueSize()));
        } else {
            recordFailure(e);
        }
    }

    /**
     * Live capture: publishes one record built from an encoded key and value, telling {@code listener} its fate
     * (exactly once, possibly on the producer's thread). Never throws for a refused record.
     */
    public void send(byte[] key, byte[] value, long timestampMicros, DeliveryListener listener) {
        int bytes = key.length + value.length;
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, null, Math.floorDiv(timestampMicros, 1000L),
                key, value, headers);
        try {
            producer.send(record, new TrackedDelivery(bytes, timestampMicros, listener));
        } catch (KafkaException | IllegalStateException e) {
            // IllegalStateException: the producer was closed because the flush time after a stop ran out.
            recordFailure(e);
            listener.failed(bytes);
        }
    }

    /** What a live capture learns about each record it handed over: how many bytes it no longer holds. */
    public interface DeliveryListener {
        /** The broker acknowledged a record of {@code bytes} key plus value, captured at {@code timestampMicros}. */
        void acknowledged(int bytes, long timestampMicros);

        /** The record of {@code bytes} failed (counted in {@link #failed()}). */
        void failed(int bytes);
    }

    /** The per-record callback of {@link #send(byte[], byte[], long, DeliveryListener)}. */
    private final class TrackedDelivery implements Callback {
        private final int bytes;
        private final long timestampMicros;
        private final DeliveryListener listener;

        TrackedDelivery(int bytes, long timestampMicros, DeliveryListener listener) {
            this.bytes = bytes;
            this.timestampMicros = timestampMicros;
            this.listener = listener;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception e) {
            if (e == null) {
                published.incrementAndGet();
                bytesPublished.addAndGet(bytes);
                listener.acknowledged(bytes, timestampMicros);
            } else {
                recordFailure(e);
                listener.failed(bytes);
            }
        }
    }

    /** Counts records that were built but never handed to the producer (publishing stopped first). */
    public void countUnsent(long records) {
        failed.addAndGet(records);
    }

    private void recordFailure(Exception e) {
        failed.incrementAndGet();
        if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
            // No broker took records for max.block.ms or delivery.timeout.ms (this covers a full buffer too).
            // send() reports this only through the callback; without the flag every further record would block
            // for max.block.ms again.
            brokerUnavailable = true;
        }
        String reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        if (firstError.compareAndSet(null, reason)) {
            LOG.warn("publishing to {} failed: {} (further failures are counted, not logged)", topic, reason);
        }
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
    }

    /** Records built so far. */
    public long built() {
        return sequence - firstSequence;
    }

    /** The sequence number of this run's first record (see {@link SequenceNumbers}). */
    public long firstSequence() {
        return firstSequence;
    }

    /** Takes the next sequence number: for a packet that gets a record, or that is dropped before (leaving a gap). */
    public long nextSequence() {
        return sequence++;
    }

    /** Records the broker acknowledged. */
    public long published() {
        return published.get();
    }

    /** Records that failed, at send or on delivery. */
    public long failed() {
        return failed.get();
    }

    /** Key plus value bytes of the acknowledged records. */
    public long bytesPublished() {
        return bytesPublished.get();
    }

    /** The first failure's reason, or null. */
    public String firstError() {
        return firstError.get();
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
