package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.state.Stores;

/**
 * The processor's Kafka Streams topology: every {@code tb.capture.*} topic (a pattern, so sources that appear
 * later are read too) into one {@link SubscriptionProcessor}, whose output goes to the topic named by each
 * output value ({@link RoutedValue}: no header is added for routing), and dead letters to {@code tb.deadletter}.
 */
public final class SubscriptionTopology {
    private SubscriptionTopology() {
    }

    /** Builds the topology around the shared registry and counters. */
    public static Topology build(SubscriptionRegistry registry, ProcessorCounters counters, ProcessorSettings settings) {
        Topology t = new Topology();
        t.addSource("captures", new ByteArrayDeserializer(), new ByteArrayDeserializer(), Topics.CAPTURES);
        t.addProcessor("subscriptions", () -> new SubscriptionProcessor(registry, counters, settings), "captures");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SubscriptionProcessor.SESSION_STORE),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled(), "subscriptions");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SubscriptionProcessor.HELD_STORE),
                Serdes.Bytes(), Serdes.ByteArray()), "subscriptions");
        TopicNameExtractor<byte[], RoutedValue> byValue = (key, value, ctx) -> value.topic();
        t.addSink(SubscriptionOutput.SINK, byValue, new ByteArraySerializer(), new RoutedValueSerializer(),
                "subscriptions");
        t.addSink(SubscriptionProcessor.DEADLETTER_SINK, Topics.DEADLETTER, new ByteArraySerializer(),
                new RoutedValueSerializer(), "subscriptions");
        return t;
    }
}
