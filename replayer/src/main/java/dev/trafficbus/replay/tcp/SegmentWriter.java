package dev.trafficbus.replay.tcp;

/**
 * Builds one IPv4 or IPv6 packet carrying a TCP segment into a reused buffer, checksums included.
 * Single-threaded; the bytes stay valid until the next {@link #write}.
 */
public final class SegmentWriter {
    /** TCP option: maximum segment size. */
    public static final int OPT_MSS = 1;
    /** TCP option: window scale. */
    public static final int OPT_WSCALE = 2;
    /** TCP option: SACK permitted. */
    public static final int OPT_SACK_OK = 4;

    private final byte[] buf = new byte[65535 + 60];
    private int ipId;

    /** The buffer holding the last packet written. */
    public byte[] buffer() {
        return buf;
    }

    /**
     * Writes a packet from {@code src}:{@code srcPort} to {@code dst}:{@code dstPort} (both 4 or both 16 address
     * bytes); {@code options} is a set of OPT_* bits for a SYN ({@code mss}, {@code wscale} their values).
     * Returns the packet length.
     */
    public int write(byte[] src, byte[] dst, int srcPort, int dstPort, long seq, long ack, int flags, int window,
                     int options, int mss, int wscale, byte[] payload, int off, int len) {
        int ipLen = src.length == 4 ? 20 : 40;
        int optLen = 0;
        if ((options & OPT_MSS) != 0) {
            optLen += 4;
        }
        if ((options & OPT_WSCALE) != 0) {
            optLen += 4; // NOP + 3
        }
        if ((options & OPT_SACK_OK) != 0) {
            optLen += 4; // NOP NOP + 2
        }
        int tcpLen = 20 + optLen;
        int total = ipLen + tcpLen + len;
        if (src.length == 4) {
            buf[0] = 0x45;
            buf[1] = 0;
            put16(2, total);
            put16(4, ipId++ & 0xffff);
            put16(6, 0x4000); // don't fragment: segments are cut to the MTU instead
            buf[8] = 64;
            buf[9] = 6;
            put16(10, 0);
            System.arraycopy(src, 0, buf, 12, 4);
            System.arraycopy(dst, 0, buf, 16, 4);
            put16(10, ~sum(buf, 0, 20, 0) & 0xffff);
        } else {
            buf[0] = 0x60;
            buf[1] = 0;
            buf[2] = 0;
            buf[3] = 0;
            put16(4, tcpLen + len);
            buf[6] = 6;
            buf[7] = 64;
            System.arraycopy(src, 0, buf, 8, 16);
            System.arraycopy(dst, 0, buf, 24, 16);
        }
        int t = ipLen;
        put16(t, srcPort);
        put16(t + 2, dstPort);
        put32(t + 4, seq);
        put32(t + 8, ack);
        buf[t + 12] = (byte) ((tcpLen / 4) << 4);
        buf[t + 13] = (byte) flags;
        put16(t + 14, window);
        put16(t + 16, 0);
        put16(t + 18, 0);
        int p = t + 20;
        if ((options & OPT_MSS) != 0) {
            buf[p] = 2;
            buf[p + 1] = 4;
            put16(p + 2, mss);
            p += 4;
        }
        if ((options & OPT_WSCALE) != 0) {
            buf[p] = 1;
            buf[p + 1] = 3;
            buf[p + 2] = 3;
            buf[p + 3] = (byte) wscale;
            p += 4;
        }
        if ((options & OPT_SACK_OK) != 0) {
            buf[p] = 1;
            buf[p + 1] = 1;
            buf[p + 2] = 4;
            buf[p + 3] = 2;
            p += 4;
        }
        if (len > 0) {
            System.arraycopy(payload, off, buf, p, len);
        }
        int segLen = tcpLen + len;
        // Pseudo-header: addresses, protocol and segment length, then the segment itself.
        int s = sum(src, 0, src.length, 0);
        s = sum(dst, 0, dst.length, s);
        s += 6 + segLen;
        s = sum(buf, t, segLen, s);
        int c = ~fold(s) & 0xffff;
        put16(t + 16, c);
        return total;
    }

    private static int sum(byte[] b, int off, int len, int acc) {
        long s = acc & 0xffffffffL;
        int end = off + (len & ~1);
        for (int i = off; i < end; i += 2) {
            s += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            s += (b[off + len - 1] & 0xff) << 8;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    private static int fold(int s) {
        long v = s & 0xffffffffL;
        while ((v >>> 16) != 0) {
            v = (v & 0xffff) + (v >>> 16);
        }
        return (int) v;
    }

    private void put16(int at, int v) {
        buf[at] = (byte) (v >>> 8);
        buf[at + 1] = (byte) v;
    }

    private void put32(int at, long v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }
}
