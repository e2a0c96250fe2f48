package dev.trafficbus.session;

import dev.trafficbus.packet.PacketView;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Builds IPv4/TCP packets as bytes for unit tests of the parsers and, in the engine test, synthetic
 * captures. Checksums are left zero: nothing on the read path verifies them.
 */
public final class TestPackets {
    private TestPackets() {
    }

    /** One IPv4 TCP packet. */
    public static byte[] tcp(String src, int srcPort, String dst, int dstPort, long seq, long ack, int flags,
                             byte[] payload) {
        int len = 20 + 20 + payload.length;
        byte[] p = new byte[len];
        p[0] = 0x45;
        p[2] = (byte) (len >>> 8);
        p[3] = (byte) len;
        p[6] = 0x40; // don't fragment
        p[8] = 64;
        p[9] = 6;
        System.arraycopy(addr(src), 0, p, 12, 4);
        System.arraycopy(addr(dst), 0, p, 16, 4);
        int t = 20;
        p[t] = (byte) (srcPort >>> 8);
        p[t + 1] = (byte) srcPort;
        p[t + 2] = (byte) (dstPort >>> 8);
        p[t + 3] = (byte) dstPort;
        putInt(p, t + 4, seq);
        putInt(p, t + 8, ack);
        p[t + 12] = 0x50;
        p[t + 13] = (byte) flags;
        p[t + 14] = (byte) 0xFF;
        p[t + 15] = (byte) 0xFF;
        System.arraycopy(payload, 0, p, 40, payload.length);
        return p;
    }

    /** One IPv4 UDP packet (for "not TCP" cases). */
    public static byte[] udp(String src, int srcPort, String dst, int dstPort, byte[] payload) {
        int len = 20 + 8 + payload.length;
        byte[] p = new byte[len];
        p[0] = 0x45;
        p[2] = (byte) (len >>> 8);
        p[3] = (byte) len;
        p[8] = 64;
        p[9] = 17;
        System.arraycopy(addr(src), 0, p, 12, 4);
        System.arraycopy(addr(dst), 0, p, 16, 4);
        p[20] = (byte) (srcPort >>> 8);
        p[21] = (byte) srcPort;
        p[22] = (byte) (dstPort >>> 8);
        p[23] = (byte) dstPort;
        p[24] = (byte) ((8 + payload.length) >>> 8);
        p[25] = (byte) (8 + payload.length);
        System.arraycopy(payload, 0, p, 28, payload.length);
        return p;
    }

    /** A view wrapped on {@code packet} (must be TCP). */
    public static PacketView view(byte[] packet) {
        PacketView v = new PacketView();
        if (v.wrap(packet, 0, packet.length) != dev.trafficbus.packet.PacketStatus.TCP) {
            throw new IllegalArgumentException("not a TCP packet");
        }
        return v;
    }

    private static void putInt(byte[] p, int at, long v) {
        p[at] = (byte) (v >>> 24);
        p[at + 1] = (byte) (v >>> 16);
        p[at + 2] = (byte) (v >>> 8);
        p[at + 3] = (byte) v;
    }

    private static byte[] addr(String ip) {
        try {
            return InetAddress.getByName(ip).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }
}
