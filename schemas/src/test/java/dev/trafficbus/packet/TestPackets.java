package dev.trafficbus.packet;

import java.nio.ByteBuffer;

/** Hand-built IP/TCP packets for parser unit tests. */
public final class TestPackets {
    private TestPackets() {
    }

    /** An IPv4 TCP packet with the given TCP options (padded to 4 bytes) and payload. */
    public static byte[] ipv4(int[] src, int sport, int[] dst, int dport, long seq, long ack, int flags,
                              byte[] options, byte[] payload) {
        int optLen = (options.length + 3) / 4 * 4;
        int tcpLen = 20 + optLen;
        int total = 20 + tcpLen + payload.length;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0);
        for (int x : src) {
            b.put((byte) x);
        }
        for (int x : dst) {
            b.put((byte) x);
        }
        tcp(b, sport, dport, seq, ack, flags, options, optLen);
        b.put(payload);
        return b.array();
    }

    /** An IPv6 TCP packet, optionally behind one hop-by-hop extension header. */
    public static byte[] ipv6(byte[] src, int sport, byte[] dst, int dport, long seq, long ack, int flags,
                              byte[] payload, boolean hopByHop) {
        int ext = hopByHop ? 8 : 0;
        int tcpLen = 20;
        ByteBuffer b = ByteBuffer.allocate(40 + ext + tcpLen + payload.length);
        b.putInt(0x60000000).putShort((short) (ext + tcpLen + payload.length)).put((byte) (hopByHop ? 0 : 6))
                .put((byte) 64).put(src).put(dst);
        if (hopByHop) {
            b.put((byte) 6).put((byte) 0).put(new byte[] {1, 4, 0, 0, 0, 0});
        }
        tcp(b, sport, dport, seq, ack, flags, new byte[0], 0);
        b.put(payload);
        return b.array();
    }

    private static void tcp(ByteBuffer b, int sport, int dport, long seq, long ack, int flags, byte[] options, int optLen) {
        b.putShort((short) sport).putShort((short) dport).putInt((int) seq).putInt((int) ack)
                .put((byte) (((20 + optLen) / 4) << 4)).put((byte) flags).putShort((short) 65535)
                .putShort((short) 0).putShort((short) 0);
        b.put(options);
        for (int i = options.length; i < optLen; i++) {
            b.put((byte) 0);
        }
    }
}
