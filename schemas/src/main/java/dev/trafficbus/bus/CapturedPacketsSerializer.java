package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
import dev.trafficbus.bus.avro.CapturedPackets;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;

/** Kafka serializer for {@link CapturedPackets} values (Avro binary, no schema registry). */
public final class CapturedPacketsSerializer implements Serializer<CapturedPackets> {
    @Override
    public byte[] serialize(String topic, CapturedPackets packets) {
        if (packets == null) {
            return null;
        }
        CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();
        for (CapturedPacket p : packets.getPackets()) {
            ByteBuffer b = p.getPacket();
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            builder.add(CapturedPacketCodec.encodePacket(p.getTimestampMicros(), p.getDirection(), bytes, 0,
                    bytes.length, p.getOriginalLength(), p.getSequence()));
        }
        return builder.build();
    }
}
