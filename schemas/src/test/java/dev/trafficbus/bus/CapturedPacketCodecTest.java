package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
import dev.trafficbus.bus.avro.CapturedPackets;
import dev.trafficbus.bus.avro.Direction;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CapturedPacketCodecTest {

    private static CapturedPacket sample(long ts, long seq, byte[] packet) {
        return CapturedPacket.newBuilder().setTimestampMicros(ts).setDirection(Direction.SERVER_TO_CLIENT)
                .setPacket(ByteBuffer.wrap(packet)).setOriginalLength(packet.length + 7).setSequence(seq).build();
    }

    private static byte[] avroBytes(CapturedPackets value) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(CapturedPackets.class).write(value, enc);
        enc.flush();
        return out.toByteArray();
    }

    @Test
    void codecBytesAreExactlyWhatAvroWrites() throws Exception {
        List<CapturedPacket> all = new ArrayList<>();
        for (long ts : new long[] {0, 1, -1, 1_763_900_000_123_456L, Long.MAX_VALUE}) {
            byte[] packet = new byte[(int) (Math.abs(ts % 300))];
            for (int i = 0; i < packet.length; i++) {
                packet[i] = (byte) (i * 31);
            }
            CapturedPacket record = sample(ts, ts == Long.MAX_VALUE ? 0 : Math.abs(ts) % 1_000_000_007L, packet);
            all.add(record);
            CapturedPackets one = CapturedPackets.newBuilder().setPackets(List.of(record)).build();
            byte[] avro = avroBytes(one);

            byte[] ours = new CapturedPacketsSerializer().serialize("t", one);
            assertThat(ours).isEqualTo(avro);
            assertThat(CapturedPacketCodec.encode(ts, Direction.SERVER_TO_CLIENT, packet, 0, packet.length,
                    packet.length + 7, record.getSequence())).isEqualTo(avro);

            // A plain generic reader (any consumer's view of the contract) reads our bytes.
            GenericRecord viaAvro = new GenericDatumReader<GenericRecord>(CapturedPackets.getClassSchema())
                    .read(null, DecoderFactory.get().binaryDecoder(ours, null));
            GenericRecord first = (GenericRecord) ((List<?>) viaAvro.get("packets")).get(0);
            assertThat(first.get("timestampMicros")).isEqualTo(ts);
            assertThat(first.get("direction")).hasToString("SERVER_TO_CLIENT");
            assertThat(first.get("packet")).isEqualTo(ByteBuffer.wrap(packet));
            assertThat(first.get("originalLength")).isEqualTo(packet.length + 7);
            assertThat(new CapturedPacketsDeserializer().deserialize("t", avro)).isEqualTo(one);
        }
        // Several packets in one value: the builder joins encoded packets into what Avro writes for the array.
        CapturedPackets many = CapturedPackets.newBuilder().setPackets(all).build();
        byte[] avro = avroBytes(many);
        assertThat(new CapturedPacketsSerializer().serialize("t", many)).isEqualTo(avro);
        assertThat(new CapturedPacketsDeserializer().deserialize("t", avro)).isEqualTo(many);
    }

    @Test
    void readerWalksEveryPacketOfAValueAndItsEncodedRanges() {
        CapturedPacketCodec.Builder b = new CapturedPacketCodec.Builder();
        for (int i = 0; i < 70; i++) { // 70 packets: the count takes two varint bytes
            b.add(CapturedPacketCodec.encodePacket(1000 + i, i % 2 == 0 ? Direction.CLIENT_TO_SERVER
                    : Direction.SERVER_TO_CLIENT, new byte[] {(byte) i, 1, 2}, 0, 1 + i % 3, 40 + i, 500 + i));
        }
        assertThat(b.count()).isEqualTo(70);
        byte[] value = b.build();
        assertThat(b.count()).isZero();
        CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader().read(value);
        assertThat(r.packetCount()).isEqualTo(70);
        CapturedPacketCodec.Builder again = new CapturedPacketCodec.Builder();
        int seen = 0;
        do {
            assertThat(r.packetIndex()).isEqualTo(seen);
            assertThat(r.timestampMicros()).isEqualTo(1000 + seen);
            assertThat(r.direction()).isEqualTo(seen % 2 == 0 ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT);
            assertThat(r.packetLength()).isEqualTo(1 + seen % 3);
            assertThat(value[r.packetOffset()]).isEqualTo((byte) seen);
            assertThat(r.originalLength()).isEqualTo(40 + seen);
            assertThat(r.sequence()).isEqualTo(500 + seen);
            if (seen % 10 == 0) {
                again.add(value, r.packetStart(), r.packetEnd() - r.packetStart());
            }
            seen++;
        } while (r.advance());
        assertThat(seen).isEqualTo(70);
        assertThat(r.advance()).isFalse();
        assertThat(r.sequence()).isEqualTo(569);
        // A value built from ranges of another holds exactly the packets chosen.
        CapturedPacketCodec.Reader picked = new CapturedPacketCodec.Reader().read(again.build());
        List<Long> sequences = new ArrayList<>();
        do {
            sequences.add(picked.sequence());
        } while (picked.advance());
        assertThat(sequences).containsExactly(500L, 510L, 520L, 530L, 540L, 550L, 560L);
    }

    @Test
    void readerAcceptsBlocksWithByteSizes() {
        // Avro writers may frame an array as blocks with a negative count followed by the block's byte size.
        byte[] p1 = CapturedPacketCodec.encodePacket(1, Direction.CLIENT_TO_SERVER, new byte[] {7}, 0, 1, 1, 1);
        byte[] p2 = CapturedPacketCodec.encodePacket(2, Direction.SERVER_TO_CLIENT, new byte[] {8}, 0, 1, 1, 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(1); // zig-zag -1: one item, sized
        out.write(p1.length * 2);
        out.writeBytes(p1);
        out.write(2); // one item
        out.writeBytes(p2);
        out.write(0);
        CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader().read(out.toByteArray());
        assertThat(r.packetCount()).isEqualTo(2);
        assertThat(r.sequence()).isEqualTo(1);
        assertThat(r.advance()).isTrue();
        assertThat(r.sequence()).isEqualTo(2);
        assertThat(r.direction()).isEqualTo(Direction.SERVER_TO_CLIENT);
    }

    @Test
    void readerExposesFieldsWithoutCopyingThePacket() {
        byte[] ip = {0x45, 0, 0, 20};
        byte[] value = CapturedPacketCodec.encode(42, Direction.CLIENT_TO_SERVER, new byte[] {9, 0x45, 0, 0, 20, 9}, 1, 4, 60, 7);
        CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader().read(value);
        assertThat(r.timestampMicros()).isEqualTo(42);
        assertThat(r.direction()).isEqualTo(Direction.CLIENT_TO_SERVER);
        assertThat(r.packetArray()).isSameAs(value);
        assertThat(ByteBuffer.wrap(value, r.packetOffset(), r.packetLength())).isEqualTo(ByteBuffer.wrap(ip));
        assertThat(r.originalLength()).isEqualTo(60);
        assertThat(r.sequence()).isEqualTo(7);
    }

    @Test
    void badValuesAreRejectedWithAReason() {
        byte[] good = CapturedPacketCodec.encode(1, Direction.CLIENT_TO_SERVER, new byte[10], 0, 10, 10, 1);
        byte[] cut = java.util.Arrays.copyOf(good, good.length - 3);
        assertThatThrownBy(() -> new CapturedPacketsDeserializer().deserialize("tb.capture.x", cut))
                .isInstanceOf(SerializationException.class).hasMessageContaining("tb.capture.x");
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(longer)).hasMessageContaining("trailing");
        byte[] badDirection = good.clone();
        badDirection[2] = 8; // enum index 4 (after the count and the timestamp)
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(badDirection)).hasMessageContaining("direction");
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(new byte[] {(byte) 0x80}))
                .hasMessageContaining("ends inside");
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(new byte[] {0})).hasMessageContaining("no packet");
    }

    @Test
    void writtenOutFingerprintAndDirectionIndexesAreTheSchemas() {
        assertThat(CapturedPacketCodec.SCHEMA_FINGERPRINT)
                .as("the schema changed: write its new fingerprint into CapturedPacketCodec.SCHEMA_FINGERPRINT")
                .isEqualTo(org.apache.avro.SchemaNormalization.parsingFingerprint64(
                        CapturedPackets.getClassSchema()));
        assertThat(CapturedPacketCodec.CLIENT_TO_SERVER_INDEX)
                .isEqualTo(Direction.CLIENT_TO_SERVER.ordinal());
        assertThat(CapturedPacketCodec.SERVER_TO_CLIENT_INDEX)
                .isEqualTo(Direction.SERVER_TO_CLIENT.ordinal());
    }

    @Test
    void fingerprintHeaderIsEightBytesOfTheSchemaFingerprint() {
        assertThat(ByteBuffer.wrap(CapturedPacketCodec.fingerprintHeaderValue()).getLong())
                .isEqualTo(CapturedPacketCodec.SCHEMA_FINGERPRINT);
    }

    @Test
    void topicNamesValidateIds() {
        assertThat(Topics.capture("web1")).isEqualTo("tb.capture.web1");
        assertThat(Topics.subscription("team-a")).isEqualTo("tb.sub.team-a");
        assertThatThrownBy(() -> Topics.capture("web 1")).hasMessageContaining("source 'web 1'");
    }
}
