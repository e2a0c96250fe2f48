package dev.trafficbus.bus;

/** Names of the Kafka record headers that travel beside every captured packet. */
public final class RecordHeaderNames {
    /** UTF-8 source id of the forwarder that captured the packet. */
    public static final String SOURCE = "tb.source";
    /** 8-byte big-endian CRC-64-AVRO parsing fingerprint of the value's writer schema. */
    public static final String SCHEMA_FINGERPRINT = "tb.schema";

    /**
     * Amplification copy index (4-byte big-endian int, 0-based) set by the processor on subscription topics;
     * absent means copy 0. Replayers treat each copy as its own session with its own client endpoint.
     */
    public static final String COPY = "tb.copy";

    private RecordHeaderNames() {
    }
}
