package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPacket;
import dev.trafficbus.bus.avro.Direction;
import org.apache.avro.SchemaNormalization;

import java.nio.ByteBuffer;

/**
 * Avro binary encoding of {@link CapturedPacket} written and read field by field, without building
 * record objects: the per-packet path of the forwarder and the replayer. The bytes are exactly what
 * Avro's own writer produces for the schema (checked by tests), so any Avro reader can consume them.
 */
public final class CapturedPacketCodec {
    /** CRC-64-AVRO parsing fingerprint of the {@link CapturedPacket} schema. */
    public static final long SCHEMA_FINGERPRINT = SchemaNormalization.parsingFingerprint64(CapturedPacket.getClassSchema());

    private CapturedPacketCodec() {
    }

    /** The schema fingerprint as the 8 bytes of the {@link RecordHeaderNames#SCHEMA_FINGERPRINT} header. */
    public static byte[] fingerprintHeaderValue() {
        return ByteBuffer.allocate(8).putLong(SCHEMA_FINGERPRINT).array();
    }

    /** Encodes one captured packet; {@code packet[off, off+len)} is the IP packet. */
    public static byte[] encode(long timestampMicros, Direction direction, byte[] packet, int off, int len,
                                int originalLength, long sequence) {
        // Sized exactly up front: one allocation and one copy of the packet per record.
        byte[] out = new byte[varLongSize(timestampMicros) + varLongSize(direction.ordinal()) + varLongSize(len) + len
                + varLongSize(originalLength) + varLongSize(sequence)];
        int p = writeLong(out, 0, timestampMicros);
        p = writeLong(out, p, direction.ordinal());
        p = writeLong(out, p, len);
        System.arraycopy(packet, off, out, p, len);
        p += len;
        p = writeLong(out, p, originalLength);
        writeLong(out, p, sequence);
        return out;
    }

    /** Bytes of Avro's zig-zag varint encoding of {@code value}. */
    private static int varLongSize(long value) {
        long n = (value << 1) ^ (value >> 63);
        int size = 1;
        while ((n & ~0x7FL) != 0) {
            n >>>= 7;
            size++;
        }
        return size;
    }

    private static int writeLong(byte[] out, int p, long value) {
        long n = (value << 1) ^ (value >> 63);
        while ((n & ~0x7FL) != 0) {
            out[p++] = (byte) ((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out[p++] = (byte) n;
        return p;
    }

    /**
     * A reusable reader over one encoded value: {@link #read} fills the fields, and the packet bytes stay
     * in the value array at {@link #packetOffset()} (no copy).
     */
    public static final class Reader {
        private byte[] value;
        private int pos;
        private long timestampMicros;
        private Direction direction;
        private int packetOffset;
        private int packetLength;
        private int originalLength;
        private long sequence;

        /** Decodes {@code value}; throws {@link IllegalArgumentException} when it is not a valid record. */
        public Reader read(byte[] value) {
            if (value == null) {
                throw new IllegalArgumentException("null record value");
            }
            this.value = value;
            this.pos = 0;
            timestampMicros = readLong();
            long dir = readLong();
            if (dir < 0 || dir >= DIRECTIONS.length) {
                throw new IllegalArgumentException("direction index " + dir + " out of range");
            }
            direction = DIRECTIONS[(int) dir];
            long len = readLong();
            if (len < 0 || len > value.length - pos) {
                throw new IllegalArgumentException("packet length " + len + " exceeds the record");
            }
            packetOffset = pos;
            packetLength = (int) len;
            pos += packetLength;
            long orig = readLong();
            if (orig < 0 || orig > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("original length " + orig + " out of range");
            }
            originalLength = (int) orig;
            sequence = readLong();
            if (pos != value.length) {
                throw new IllegalArgumentException((value.length - pos) + " trailing bytes after the record");
            }
            return this;
        }

        private long readLong() {
            long n = 0;
            int shift = 0;
            while (true) {
                if (pos >= value.length) {
                    throw new IllegalArgumentException("record ends inside a number");
                }
                int b = value[pos++] & 0xFF;
                n |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
                shift += 7;
                if (shift > 63) {
                    throw new IllegalArgumentException("malformed varint");
                }
            }
            return (n >>> 1) ^ -(n & 1);
        }

        public long timestampMicros() {
            return timestampMicros;
        }

        public Direction direction() {
            return direction;
        }

        /** The array that holds the packet bytes (the record value itself). */
        public byte[] packetArray() {
            return value;
        }

        public int packetOffset() {
            return packetOffset;
        }

        public int packetLength() {
            return packetLength;
        }

        public int originalLength() {
            return originalLength;
        }

        public long sequence() {
            return sequence;
        }

        private static final Direction[] DIRECTIONS = Direction.values();
    }
}
