package dev.trafficbus.subscription;

import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.bus.Topics;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;

/**
 * The {@code tb.subscription} header of one subscription, made once and attached to every record it emits; it
 * also carries the output topic name, so the sink's topic choice per record is a field read, not a decode.
 */
final class SubscriptionHeader implements Header {
    private final byte[] value;
    private final String topic;

    SubscriptionHeader(String name) {
        this.value = name.getBytes(StandardCharsets.UTF_8);
        this.topic = Topics.SUBSCRIPTION_PREFIX + name;
    }

    @Override
    public String key() {
        return RecordHeaderNames.SUBSCRIPTION;
    }

    /** The subscription name, UTF-8; shared by every record, so never to be written to. */
    @Override
    public byte[] value() {
        return value;
    }

    /** The output topic, {@code tb.sub.<name>}. */
    String topic() {
        return topic;
    }

    /** The output topic named by a {@code tb.subscription} header of any origin. */
    static String topicOf(Header h) {
        return h instanceof SubscriptionHeader s ? s.topic
                : Topics.SUBSCRIPTION_PREFIX + new String(h.value(), StandardCharsets.UTF_8);
    }
}
