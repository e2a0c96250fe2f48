package dev.trafficbus.subscription;

import org.apache.kafka.common.serialization.Serializer;

/** Writes a {@link RoutedValue}'s bytes as they are; the topic was taken by the sink already. */
final class RoutedValueSerializer implements Serializer<RoutedValue> {
    @Override
    public byte[] serialize(String topic, RoutedValue data) {
        return data == null ? null : data.value();
    }
}
