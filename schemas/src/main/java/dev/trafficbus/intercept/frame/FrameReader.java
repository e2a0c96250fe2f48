package dev.trafficbus.intercept.frame;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads {@link InterceptFrames} frames from a {@link ByteBuffer}. Find whole frames in a stream with
 * {@link #frameSize}; then {@link #type} and the {@code read*} method for that type, each given the frame
 * (from its length prefix on, position at the frame start). Reading does not move the buffer's position.
 * Malformed frames throw {@link FrameException}.
 */
public final class FrameReader {
    /** A HELLO's content. */
    public record Hello(int version, byte[] token, String name) {
    }

    /** A WELCOME's content. */
    public record Welcome(int version, boolean withPayload) {
    }

    /** Receives the packets of a PACKETS frame without copying them. */
    @FunctionalInterface
    public interface PacketSink {
        /** One packet: {@code length} bytes from the IP header on, at absolute index {@code offset} of {@code buf}. */
        void packet(ByteBuffer buf, int offset, int length);
    }

    private FrameReader() {
    }

    /**
     * Size in bytes (length prefix included) of the frame at {@code in}'s position when all of it is there,
     * else -1 (read more first).
     *
     * @throws FrameException when the length prefix is 0 or above {@link InterceptFrames#MAX_FRAME}
     */
    public static int frameSize(ByteBuffer in) {
        if (in.remaining() < 4) {
            return -1;
        }
        int length = in.getInt(in.position());
        if (length < 1 || length > InterceptFrames.MAX_FRAME) {
            throw new FrameException("frame length " + Integer.toUnsignedString(length) + " out of range 1.."
                    + InterceptFrames.MAX_FRAME);
        }
        return in.remaining() >= 4 + length ? 4 + length : -1;
    }

    /**
     * Type byte of the whole frame at {@code frame}'s position.
     *
     * @throws FrameException when the frame is too short to have one (a length prefix of 0)
     */
    public static byte type(ByteBuffer frame) {
        if (frame.limit() - frame.position() < 5) {
            throw new FrameException("frame of " + (frame.limit() - frame.position()) + " bytes has no type byte");
        }
        return frame.get(frame.position() + 4);
    }

    /** Reads a HELLO frame. */
    public static Hello readHello(ByteBuffer frame) {
        Cursor c = new Cursor(frame, InterceptFrames.HELLO);
        int version = c.u16();
        byte[] token = c.bytes(c.u16());
        String name = new String(c.bytes(c.u16()), StandardCharsets.UTF_8);
        c.end();
        return new Hello(version, token, name);
    }

    /** Reads a WELCOME frame. */
    public static Welcome readWelcome(ByteBuffer frame) {
        Cursor c = new Cursor(frame, InterceptFrames.WELCOME);
        int version = c.u16();
        boolean withPayload = c.u8() != 0;
        c.end();
        return new Welcome(version, withPayload);
    }

    /** Reads a REFUSED frame's reason. */
    public static String readRefused(ByteBuffer frame) {
        Cursor c = new Cursor(frame, InterceptFrames.REFUSED);
        return new String(c.bytes(c.left()), StandardCharsets.UTF_8);
    }

    /** Reads the route of a REGISTER, REGISTERED or UNREGISTER frame. */
    public static Route readRoute(ByteBuffer frame) {
        byte type = type(frame);
        if (type != InterceptFrames.REGISTER && type != InterceptFrames.REGISTERED
                && type != InterceptFrames.UNREGISTER) {
            throw new FrameException("expected REGISTER, REGISTERED or UNREGISTER, got frame type " + type);
        }
        Cursor c = new Cursor(frame, type);
        int family = c.u8();
        if (family != 4 && family != 6) {
            throw new FrameException("address family " + family + " is neither 4 nor 6");
        }
        byte[] address = c.bytes(family == 4 ? 4 : 16);
        int prefix = c.u8();
        int first = c.u16();
        int last = c.u16();
        c.end();
        return new Route(address, prefix, first, last);
    }

    /**
     * Hands each packet of a PACKETS frame to {@code sink}, in order, and returns how many there were.
     * The whole frame is checked before the first packet is handed over.
     */
    public static int readPackets(ByteBuffer frame, PacketSink sink) {
        Cursor c = new Cursor(frame, InterceptFrames.PACKETS);
        int count = c.u16();
        int bodyStart = c.pos;
        for (int i = 0; i < count; i++) {
            c.skip(c.u16());
        }
        c.end();
        c.pos = bodyStart;
        for (int i = 0; i < count; i++) {
            int length = c.u16();
            sink.packet(frame, c.pos, length);
            c.pos += length;
        }
        return count;
    }

    /** Reads a frame body by absolute index, checking every field stays inside the frame. */
    private static final class Cursor {
        private final ByteBuffer buf;
        private final int end;
        private final byte type;
        private int pos;

        Cursor(ByteBuffer buf, byte expectedType) {
            int start = buf.position();
            if (buf.limit() - start < 5) {
                throw new FrameException("frame shorter than its header");
            }
            int length = buf.getInt(start);
            if (length < 1 || length > InterceptFrames.MAX_FRAME || buf.limit() - start - 4 < length) {
                throw new FrameException("frame length " + length + " does not match the bytes given");
            }
            this.buf = buf;
            this.end = start + 4 + length;
            this.type = buf.get(start + 4);
            if (type != expectedType) {
                throw new FrameException("expected frame type " + expectedType + ", got " + type);
            }
            this.pos = start + 5;
        }

        int left() {
            return end - pos;
        }

        private void need(int n) {
            if (n < 0 || end - pos < n) {
                throw new FrameException("frame type " + type + " ends early");
            }
        }

        int u8() {
            need(1);
            return buf.get(pos++) & 0xFF;
        }

        int u16() {
            need(2);
            int v = buf.getShort(pos) & 0xFFFF;
            pos += 2;
            return v;
        }

        byte[] bytes(int n) {
            need(n);
            byte[] out = new byte[n];
            buf.get(pos, out);
            pos += n;
            return out;
        }

        void skip(int n) {
            need(n);
            pos += n;
        }

        void end() {
            if (pos != end) {
                throw new FrameException("frame type " + type + " has " + (end - pos) + " extra bytes");
            }
        }
    }
}
