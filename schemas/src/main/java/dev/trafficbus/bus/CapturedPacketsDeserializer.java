package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
import dev.trafficbus.bus.avro.CapturedPackets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Kafka deserializer for {@link CapturedPackets} values; a bad value raises {@link SerializationException}. */
public final class CapturedPacketsDeserializer implements Deserializer<CapturedPackets> {
    @Override
    public CapturedPackets deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader().read(data);
            List<CapturedPacket> packets = new ArrayList<>(r.packetCount());
            do {
                packets.add(CapturedPacket.newBuilder()
                        .setTimestampMicros(r.timestampMicros())
                        .setDirection(r.direction())
                        .setPacket(ByteBuffer.wrap(data, r.packetOffset(), r.packetLength()).slice())
                        .setOriginalLength(r.originalLength())
                        .setSequence(r.sequence())
                        .build());
            } while (r.advance());
            return CapturedPackets.newBuilder().setPackets(packets).build();
        } catch (IllegalArgumentException e) {
            throw new SerializationException("not a CapturedPackets record on " + topic + ": " + e.getMessage(), e);
        }
    }
}
