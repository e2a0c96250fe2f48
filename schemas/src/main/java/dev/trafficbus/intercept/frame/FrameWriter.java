package dev.trafficbus.intercept.frame;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes {@link InterceptFrames} frames into a {@link ByteBuffer} at its position (which advances). Each method
 * writes one whole frame, length prefix included; a buffer too small throws {@link java.nio.BufferOverflowException}
 * (size it with the {@code *Size} methods). A PACKETS frame is built in place: {@link #beginPackets}, then
 * {@link #addPacket} per packet while {@link #packetFits} says so, then {@link #endPackets}.
 */
public final class FrameWriter {
    /** Bytes before a frame's body: the u32 length and the u8 type. */
    public static final int HEADER = 5;
    /** Bytes of a PACKETS frame before its first packet: header plus the u16 count. */
    public static final int PACKETS_HEADER = HEADER + 2;
    /** Most packets one PACKETS frame can carry (the count is a u16). */
    public static final int MAX_PACKETS = 0xFFFF;

    private FrameWriter() {
    }

    /** Frame size of a HELLO carrying this token and name. */
    public static int helloSize(byte[] token, String name) {
        return HEADER + 2 + 2 + token.length + 2 + utf8(name).length;
    }

    /** HELLO: protocol version, shared token, instance name. */
    public static void hello(ByteBuffer out, byte[] token, String name) {
        byte[] nameBytes = utf8(name);
        requireU16(token.length, "token");
        requireU16(nameBytes.length, "name");
        header(out, 2 + 2 + token.length + 2 + nameBytes.length, InterceptFrames.HELLO);
        out.putShort((short) InterceptFrames.VERSION);
        out.putShort((short) token.length).put(token);
        out.putShort((short) nameBytes.length).put(nameBytes);
    }

    /** WELCOME: protocol version and whether packets will carry their TCP payload. */
    public static void welcome(ByteBuffer out, boolean withPayload) {
        header(out, 3, InterceptFrames.WELCOME);
        out.putShort((short) InterceptFrames.VERSION);
        out.put((byte) (withPayload ? 1 : 0));
    }

    /** Frame size of a REFUSED with this reason. */
    public static int refusedSize(String reason) {
        return HEADER + utf8(reason).length;
    }

    /** REFUSED: the reason, UTF-8; the sender closes the channel after it. */
    public static void refused(ByteBuffer out, String reason) {
        byte[] bytes = utf8(reason);
        header(out, bytes.length, InterceptFrames.REFUSED);
        out.put(bytes);
    }

    /** Frame size of a REGISTER/REGISTERED/UNREGISTER for this route. */
    public static int routeSize(Route route) {
        return HEADER + 1 + route.addressLength() + 1 + 2 + 2;
    }

    /** REGISTER: responses to this route go to the sender from now on. */
    public static void register(ByteBuffer out, Route route) {
        route(out, InterceptFrames.REGISTER, route);
    }

    /** REGISTERED: intercept has the route of a REGISTER in place (its answer when it does not refuse it). */
    public static void registered(ByteBuffer out, Route route) {
        route(out, InterceptFrames.REGISTERED, route);
    }

    /** UNREGISTER: the sender gives a route up. */
    public static void unregister(ByteBuffer out, Route route) {
        route(out, InterceptFrames.UNREGISTER, route);
    }

    private static void route(ByteBuffer out, byte type, Route route) {
        int len = route.addressLength();
        header(out, 1 + len + 1 + 2 + 2, type);
        out.put((byte) route.family());
        for (int i = 0; i < len; i++) {
            out.put(route.addressByte(i));
        }
        out.put((byte) route.prefixLength());
        out.putShort((short) route.firstPort());
        out.putShort((short) route.lastPort());
    }

    /** PING: keep-alive, empty body. */
    public static void ping(ByteBuffer out) {
        header(out, 0, InterceptFrames.PING);
    }

    /** Starts a PACKETS frame; returns its start position, to pass to {@link #endPackets}. */
    public static int beginPackets(ByteBuffer out) {
        int start = out.position();
        out.putInt(0).put(InterceptFrames.PACKETS).putShort((short) 0);
        return start;
    }

    /**
     * True when one more packet of {@code length} bytes fits both in {@code out} and in the frame limit
     * ({@link InterceptFrames#MAX_FRAME}) of the PACKETS frame that began at {@code start} with {@code count} packets.
     */
    public static boolean packetFits(ByteBuffer out, int start, int count, int length) {
        int frameBytes = out.position() - start - 4;
        return count < MAX_PACKETS && length <= 0xFFFF && out.remaining() >= 2 + length
                && frameBytes + 2 + length <= InterceptFrames.MAX_FRAME;
    }

    /** Appends one packet (bytes from the IP header on) to the PACKETS frame being built. */
    public static void addPacket(ByteBuffer out, byte[] packet, int offset, int length) {
        requireU16(length, "packet");
        out.putShort((short) length).put(packet, offset, length);
    }

    /** Finishes the PACKETS frame that began at {@code start}, holding {@code count} packets. */
    public static void endPackets(ByteBuffer out, int start, int count) {
        if (count < 0 || count > MAX_PACKETS) {
            throw new FrameException("a PACKETS frame holds at most " + MAX_PACKETS + " packets, got " + count);
        }
        int length = out.position() - start - 4;
        if (length > InterceptFrames.MAX_FRAME) {
            throw new FrameException("PACKETS frame of " + length + " bytes exceeds " + InterceptFrames.MAX_FRAME);
        }
        out.putInt(start, length);
        out.putShort(start + HEADER, (short) count);
    }

    private static void header(ByteBuffer out, int bodyLength, byte type) {
        out.putInt(1 + bodyLength).put(type);
    }

    private static void requireU16(int length, String what) {
        if (length > 0xFFFF) {
            throw new FrameException(what + " of " + length + " bytes is longer than 65535");
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
