package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CapturedPacketCodecTest {

    private static CapturedPacket sample(long ts, long seq, byte[] packet) {
        return CapturedPacket.newBuilder().setTimestampMicros(ts).setDirection(Direction.SERVER_TO_CLIENT)
                .setPacket(ByteBuffer.wrap(packet)).setOriginalLength(packet.length + 7).setSequence(seq).build();
    }

    @Test
    void codecBytesAreExactlyWhatAvroWrites() throws Exception {
        for (long ts : new long[] {0, 1, -1, 1_763_900_000_123_456L, Long.MAX_VALUE}) {
            byte[] packet = new byte[(int) (Math.abs(ts % 300))];
            for (int i = 0; i < packet.length; i++) {
                packet[i] = (byte) (i * 31);
            }
            CapturedPacket record = sample(ts, ts == Long.MAX_VALUE ? 0 : Math.abs(ts) % 1_000_000_007L, packet);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<>(CapturedPacket.class).write(record, enc);
            enc.flush();
            byte[] avro = out.toByteArray();

            byte[] ours = new CapturedPacketSerializer().serialize("t", record);
            assertThat(ours).isEqualTo(avro);

            // A plain generic reader (any consumer's view of the contract) reads our bytes.
            GenericRecord viaAvro = new GenericDatumReader<GenericRecord>(CapturedPacket.getClassSchema())
                    .read(null, DecoderFactory.get().binaryDecoder(ours, null));
            assertThat(viaAvro.get("timestampMicros")).isEqualTo(ts);
            assertThat(viaAvro.get("direction")).hasToString("SERVER_TO_CLIENT");
            assertThat(viaAvro.get("packet")).isEqualTo(ByteBuffer.wrap(packet));
            assertThat(viaAvro.get("originalLength")).isEqualTo(packet.length + 7);
            assertThat(new CapturedPacketDeserializer().deserialize("t", avro)).isEqualTo(record);
        }
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
        assertThatThrownBy(() -> new CapturedPacketDeserializer().deserialize("tb.capture.x", cut))
                .isInstanceOf(SerializationException.class).hasMessageContaining("tb.capture.x");
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(longer)).hasMessageContaining("trailing");
        byte[] badDirection = good.clone();
        badDirection[1] = 8; // enum index 4
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(badDirection)).hasMessageContaining("direction");
        assertThatThrownBy(() -> new CapturedPacketCodec.Reader().read(new byte[] {(byte) 0x80}))
                .hasMessageContaining("ends inside");
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
