package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;

/** Kafka serializer for {@link CapturedPacket} values (Avro binary, no schema registry). */
public final class CapturedPacketSerializer implements Serializer<CapturedPacket> {
    @Override
    public byte[] serialize(String topic, CapturedPacket p) {
        if (p == null) {
            return null;
        }
        ByteBuffer b = p.getPacket();
        int len = b.remaining();
        byte[] bytes;
        int off;
        if (b.hasArray()) {
            bytes = b.array();
            off = b.arrayOffset() + b.position();
        } else {
            bytes = new byte[len];
            b.duplicate().get(bytes);
            off = 0;
        }
        return CapturedPacketCodec.encode(p.getTimestampMicros(), p.getDirection(), bytes, off, len,
                p.getOriginalLength(), p.getSequence());
    }
}
