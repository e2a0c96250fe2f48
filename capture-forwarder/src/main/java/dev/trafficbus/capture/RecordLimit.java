package dev.trafficbus.capture;

import dev.trafficbus.cli.TopicState;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;

import java.util.Properties;

/**
 * The largest record value a capture topic takes. The broker refuses a batch larger than the topic's
 * {@code max.message.bytes} and the producer a record larger than {@code max.request.size}
 * (RecordTooLargeException), and a refused record fails the good records of its batch with it. So records are
 * closed before they grow past the limit, and a packet that would not fit even alone is counted as
 * {@link SkipReason#OVERSIZED} before it is batched.
 *
 * @param maxValueBytes the largest record value sent
 */
record RecordLimit(int maxValueBytes) {
    /** Room for the batch and record framing, the key, the headers, and lz4's worst case on a batch of one. */
    static final int FRAMING_BYTES = 1024;
    /** Bytes an encoded packet ({@code CapturedPacketCodec.encodePacket}) and a value of one add to the IP packet, at most. */
    static final int PACKET_OVERHEAD = 48;
    /** Kafka's max.message.bytes and max.request.size default (1 MiB and a little). */
    private static final int KAFKA_DEFAULT = 1_048_576;

    /** The limit of a described topic with these producer settings; the bound of {@link FlowBatcher} at most. */
    static RecordLimit of(TopicState topic, Properties producerSettings) {
        long limit = FlowBatcher.MAX_VALUE_BYTES;
        limit = Math.min(limit, bytes(topic.value(TopicConfig.MAX_MESSAGE_BYTES_CONFIG)) - FRAMING_BYTES);
        limit = Math.min(limit, bytes(producerSettings.getProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG)) - FRAMING_BYTES);
        return new RecordLimit((int) Math.max(16, limit));
    }

    /** False when an IP packet of {@code ipLength} bytes cannot be published, not even alone in its record. */
    boolean fits(int ipLength) {
        return ipLength + PACKET_OVERHEAD <= maxValueBytes;
    }

    private static long bytes(String value) {
        if (value == null) {
            return KAFKA_DEFAULT;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return KAFKA_DEFAULT;
        }
    }
}
