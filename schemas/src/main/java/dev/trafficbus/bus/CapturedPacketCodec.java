package dev.trafficbus.bus;

import dev.trafficbus.bus.avro.CapturedPackets;
import dev.trafficbus.bus.avro.Direction;

import java.nio.ByteBuffer;

/**
 * Avro binary encoding of {@link CapturedPackets} (one or more packets of one flow per record value) written and
 * read field by field, without building record objects: the per-packet path of the forwarder, the processor and
 * the replayer. The bytes are exactly what Avro's own writer produces for the schema (checked by tests), so any
 * Avro reader can consume them. A value is an array: a count, the packets' items back to back, a 0.
 */
public final class CapturedPacketCodec {
    /**
     * CRC-64-AVRO parsing fingerprint of the {@link CapturedPackets} schema, written out (a test checks it against
     * the schema): computing it parses the schema, which loads Avro's and Jackson's classes (about 4 MB of class
     * metadata) into a forwarder that otherwise never needs them.
     */
    public static final long SCHEMA_FINGERPRINT = 0xBF35212779F4BB73L;

    // The enum's symbol order in the schema; a test checks them against the generated enum.
    static final int CLIENT_TO_SERVER_INDEX = 0;
    static final int SERVER_TO_CLIENT_INDEX = 1;

    private CapturedPacketCodec() {
    }

    /** The schema fingerprint as the 8 bytes of the {@link RecordHeaderNames#SCHEMA_FINGERPRINT} header. */
    public static byte[] fingerprintHeaderValue() {
        return ByteBuffer.allocate(8).putLong(SCHEMA_FINGERPRINT).array();
    }

    /** A record value holding one packet; {@code packet[off, off+len)} is the IP packet. */
    public static byte[] encode(long timestampMicros, Direction direction, byte[] packet, int off, int len,
                                int originalLength, long sequence) {
        int index = directionIndex(direction == Direction.CLIENT_TO_SERVER);
        int itemSize = packetSize(timestampMicros, index, len, originalLength, sequence);
        byte[] out = new byte[itemSize + 2];
        out[0] = 2; // zig-zag 1: one item in the block
        writePacket(out, 1, timestampMicros, index, packet, off, len, originalLength, sequence);
        out[out.length - 1] = 0; // end of the array
        return out;
    }

    /**
     * The bytes of one packet inside a value (no array framing): what {@link Builder#add} joins into a value of
     * several packets. Sized exactly: one allocation and one copy of the packet.
     */
    public static byte[] encodePacket(long timestampMicros, Direction direction, byte[] packet, int off, int len,
                                      int originalLength, long sequence) {
        return encodePacket(timestampMicros, direction == Direction.CLIENT_TO_SERVER, packet, off, len, originalLength,
                sequence);
    }

    /**
     * {@link #encodePacket(long, Direction, byte[], int, int, int, long)} with the direction as a flag: the
     * forwarder's path, which so never initializes the generated enum (its static schema loads Avro).
     */
    public static byte[] encodePacket(long timestampMicros, boolean clientToServer, byte[] packet, int off, int len,
                                      int originalLength, long sequence) {
        byte[] out = new byte[encodedPacketSize(timestampMicros, clientToServer, len, originalLength, sequence)];
        encodePacketInto(out, 0, timestampMicros, clientToServer, packet, off, len, originalLength, sequence);
        return out;
    }

    /** The bytes {@link #encodePacketInto} writes for these fields and a packet of {@code len} bytes. */
    public static int encodedPacketSize(long timestampMicros, boolean clientToServer, int len, int originalLength,
                                        long sequence) {
        return packetSize(timestampMicros, directionIndex(clientToServer), len, originalLength, sequence);
    }

    /**
     * {@link #encodePacket(long, boolean, byte[], int, int, int, long)} into {@code out} from {@code at}, which must
     * have {@link #encodedPacketSize} bytes left: a live capture encodes every packet into one reused array.
     * Returns where the packet ends.
     */
    public static int encodePacketInto(byte[] out, int at, long timestampMicros, boolean clientToServer,
                                       byte[] packet, int off, int len, int originalLength, long sequence) {
        return writePacket(out, at, timestampMicros, directionIndex(clientToServer), packet, off, len,
                originalLength, sequence);
    }

    /** The Avro enum index of {@link Direction#CLIENT_TO_SERVER} or {@link Direction#SERVER_TO_CLIENT}. */
    private static int directionIndex(boolean clientToServer) {
        return clientToServer ? CLIENT_TO_SERVER_INDEX : SERVER_TO_CLIENT_INDEX;
    }

    private static int packetSize(long timestampMicros, int direction, int len, int originalLength, long sequence) {
        return varLongSize(timestampMicros) + varLongSize(direction) + varLongSize(len) + len
                + varLongSize(originalLength) + varLongSize(sequence);
    }

    private static int writePacket(byte[] out, int p, long timestampMicros, int direction, byte[] packet,
                                   int off, int len, int originalLength, long sequence) {
        p = writeLong(out, p, timestampMicros);
        p = writeLong(out, p, direction);
        p = writeLong(out, p, len);
        System.arraycopy(packet, off, out, p, len);
        p += len;
        p = writeLong(out, p, originalLength);
        return writeLong(out, p, sequence);
    }

    /**
     * Joins encoded packets (from {@link #encodePacket}, or ranges of a value given by {@link Reader#packetStart}
     * and {@link Reader#packetEnd}) into one record value. Reusable after {@link #build}.
     */
    public static final class Builder {
        private byte[] buf = new byte[1024];
        private int size;
        private int count;

        /** Appends one packet's encoded bytes {@code src[off, off+len)}. */
        public Builder add(byte[] src, int off, int len) {
            if (size + len > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, size + len));
            }
            System.arraycopy(src, off, buf, size, len);
            size += len;
            count++;
            return this;
        }

        public Builder add(byte[] encodedPacket) {
            return add(encodedPacket, 0, encodedPacket.length);
        }

        /** Packets added since the last {@link #build}. */
        public int count() {
            return count;
        }

        /** Bytes the value will have. */
        public int valueSize() {
            return varLongSize(count) + size + 1;
        }

        /** The value of the packets added (at least one), and starts over. */
        public byte[] build() {
            if (count == 0) {
                throw new IllegalStateException("a record value holds at least one packet");
            }
            byte[] out = new byte[valueSize()];
            int p = writeLong(out, 0, count);
            System.arraycopy(buf, 0, out, p, size);
            out[out.length - 1] = 0;
            size = 0;
            count = 0;
            return out;
        }
    }

    /** Bytes of Avro's zig-zag varint encoding of {@code value}. */
    private static int varLongSize(long value) {
        long n = (value << 1) ^ (value >> 63);
        // One byte per started 7 bits, at least one; without a loop: timestamps and sequence numbers take 8 bytes,
        // and this runs five times per packet on the forwarder's path.
        return (63 - Long.numberOfLeadingZeros(n | 1)) / 7 + 1;
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
     * A reusable reader over one encoded value: {@link #read} checks the whole value and loads its first packet,
     * {@link #advance} the next one; the packet bytes stay in the value array at {@link #packetOffset()} (no copy).
     * <pre>{@code reader.read(value); do { ... reader.sequence() ... } while (reader.advance());}</pre>
     */
    public static final class Reader {
        private byte[] value;
        private int pos;
        private int limit;
        private int packetCount;
        private int packetIndex;
        // Filled by the one pass of read(): advance() only looks them up, so no field is decoded twice.
        private int[] starts = new int[8];
        private int[] ends = new int[8];
        private long[] times = new long[8];
        private byte[] directions = new byte[8];
        private int[] offsets = new int[8];
        private int[] lengths = new int[8];
        private int[] originals = new int[8];
        private long[] sequences = new long[8];

        /**
         * Checks {@code value} from end to end and loads its first packet; throws {@link IllegalArgumentException}
         * naming the fault when it is not a valid value (nothing is loaded then).
         */
        public Reader read(byte[] value) {
            if (value == null) {
                throw new IllegalArgumentException("null record value");
            }
            return read(value, 0, value.length);
        }

        /** As {@link #read(byte[])} for the value {@code value[off, off+len)}: the consumer's buffer, not a copy. */
        public Reader read(byte[] value, int off, int len) {
            if (value == null) {
                throw new IllegalArgumentException("null record value");
            }
            if (off < 0 || len < 0 || len > value.length - off) {
                throw new IllegalArgumentException("value range " + off + "+" + len + " outside " + value.length + " bytes");
            }
            this.value = value;
            this.pos = off;
            this.limit = off + len;
            int count = 0;
            while (true) {
                long block = blockCount();
                if (block == 0) {
                    break;
                }
                // Every packet takes at least 5 bytes, so a count the value cannot hold is refused before any growth.
                if (block > (limit - pos) / 5 + 1) {
                    throw new IllegalArgumentException("packet count " + block + " exceeds the record");
                }
                for (long i = 0; i < block; i++) {
                    readPacket(count++);
                }
            }
            if (count == 0) {
                throw new IllegalArgumentException("record holds no packet");
            }
            if (pos != limit) {
                throw new IllegalArgumentException((limit - pos) + " trailing bytes after the record");
            }
            packetCount = count;
            packetIndex = 0;
            return this;
        }

        /** Loads the next packet of the value; false (nothing changed) after the last one. */
        public boolean advance() {
            if (packetIndex + 1 >= packetCount) {
                return false;
            }
            packetIndex++;
            return true;
        }

        /** The count of the next array block; a negative count is followed by the block's size in bytes. */
        private long blockCount() {
            long block = readLong();
            if (block < 0) {
                block = -block;
                readLong();
            }
            return block;
        }

        private void readPacket(int i) {
            if (i == starts.length) {
                grow();
            }
            starts[i] = pos;
            times[i] = readLong();
            long dir = readLong();
            if (dir != CLIENT_TO_SERVER_INDEX && dir != SERVER_TO_CLIENT_INDEX) {
                throw new IllegalArgumentException("direction index " + dir + " out of range");
            }
            directions[i] = (byte) dir;
            long len = readLong();
            if (len < 0 || len > limit - pos) {
                throw new IllegalArgumentException("packet length " + len + " exceeds the record");
            }
            offsets[i] = pos;
            lengths[i] = (int) len;
            pos += (int) len;
            long orig = readLong();
            if (orig < 0 || orig > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("original length " + orig + " out of range");
            }
            originals[i] = (int) orig;
            sequences[i] = readLong();
            ends[i] = pos;
        }

        private void grow() {
            int size = starts.length * 2;
            starts = java.util.Arrays.copyOf(starts, size);
            ends = java.util.Arrays.copyOf(ends, size);
            times = java.util.Arrays.copyOf(times, size);
            directions = java.util.Arrays.copyOf(directions, size);
            offsets = java.util.Arrays.copyOf(offsets, size);
            lengths = java.util.Arrays.copyOf(lengths, size);
            originals = java.util.Arrays.copyOf(originals, size);
            sequences = java.util.Arrays.copyOf(sequences, size);
        }

        /** Packets in the value (at least 1). */
        public int packetCount() {
            return packetCount;
        }

        /** Index of the loaded packet, 0 for the first. */
        public int packetIndex() {
            return packetIndex;
        }

        /** Where the loaded packet's encoded bytes start in the value, for {@link Builder#add}. */
        public int packetStart() {
            return starts[packetIndex];
        }

        /** Where the loaded packet's encoded bytes end (exclusive). */
        public int packetEnd() {
            return ends[packetIndex];
        }

        private long readLong() {
            long n = 0;
            int shift = 0;
            while (true) {
                if (pos >= limit) {
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
            return times[packetIndex];
        }

        public Direction direction() {
            return clientToServer() ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT;
        }

        /**
         * True when the current packet went from client to server: {@link #direction()} without the generated enum,
         * whose first use parses Avro's schema (a sixth of a replay's start-up on its consumer thread).
         */
        public boolean clientToServer() {
            return directions[packetIndex] == CLIENT_TO_SERVER_INDEX;
        }

        /** The array that holds the packet bytes (the record value itself). */
        public byte[] packetArray() {
            return value;
        }

        public int packetOffset() {
            return offsets[packetIndex];
        }

        public int packetLength() {
            return lengths[packetIndex];
        }

        public int originalLength() {
            return originals[packetIndex];
        }

        public long sequence() {
            return sequences[packetIndex];
        }
    }
}
