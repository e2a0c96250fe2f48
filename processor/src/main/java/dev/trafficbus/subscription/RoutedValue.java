package dev.trafficbus.subscription;

/**
 * A record value on its way out of the processor with the topic it goes to, so the sink picks the topic from
 * the value instead of from a header that every output record would otherwise carry.
 */
record RoutedValue(String topic, byte[] value) {
}
