package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

import java.nio.ByteBuffer;

/** Kafka deserializer for {@link CapturedPacket} values; a bad value raises {@link SerializationException}. */
public final class CapturedPacketDeserializer implements Deserializer<CapturedPacket> {
    @Override
    public CapturedPacket deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader().read(data);
            return CapturedPacket.newBuilder()
                    .setTimestampMicros(r.timestampMicros())
                    .setDirection(r.direction())
                    .setPacket(ByteBuffer.wrap(data, r.packetOffset(), r.packetLength()).slice())
                    .setOriginalLength(r.originalLength())
                    .setSequence(r.sequence())
                    .build();
        } catch (IllegalArgumentException e) {
            throw new SerializationException("not a CapturedPacket record on " + topic + ": " + e.getMessage(), e);
        }
    }
}
