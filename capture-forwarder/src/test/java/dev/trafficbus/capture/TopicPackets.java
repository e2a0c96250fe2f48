package dev.trafficbus.capture;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The packets of capture records, each decoded with the record that carries it (records in the order given). */
final class TopicPackets {
    /** One packet of a record: its index in the record and its fields, the IP bytes copied out. */
    record Packet(ConsumerRecord<byte[], byte[]> record, int index, int count, long micros, Direction direction,
                  byte[] ip, int originalLength, long sequence) {
    }

    private TopicPackets() {
    }

    /** Every packet of every record, in record order then packet order. */
    static List<Packet> of(List<ConsumerRecord<byte[], byte[]>> records) {
        CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
        List<Packet> packets = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            reader.read(r.value());
            do {
                byte[] ip = Arrays.copyOfRange(reader.packetArray(), reader.packetOffset(),
                        reader.packetOffset() + reader.packetLength());
                packets.add(new Packet(r, reader.packetIndex(), reader.packetCount(), reader.timestampMicros(),
                        reader.direction(), ip, reader.originalLength(), reader.sequence()));
            } while (reader.advance());
        }
        return packets;
    }
}
