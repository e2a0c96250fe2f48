package dev.trafficbus.packet;

/**
 * A reusable, allocation-free view of the IPv4/IPv6 and TCP headers of one packet, read straight from
 * its bytes. Call {@link #wrap} for each packet and read fields only when it returned {@link PacketStatus#TCP}.
 * Not thread-safe: one view per thread.
 */
public final class PacketView {
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;

    private static final int PROTO_TCP = 6;

    private byte[] buf;
    private int ipOffset;
    private int ipLength;
    private int ipVersion;
    private int addressLength;
    private int srcAddressOffset;
    private int dstAddressOffset;
    private int tcpOffset;
    private int tcpHeaderLength;
    private int payloadOffset;
    private int payloadLength;

    /**
     * Looks at {@code length} captured bytes of an IP packet at {@code offset}. {@code wireLength} is the
     * packet's length on the wire (pass {@code length} when nothing was cut).
     */
    public PacketStatus wrap(byte[] bytes, int offset, int length, int wireLength) {
        this.buf = bytes;
        this.ipOffset = offset;
        if (length < 1) {
            return PacketStatus.TRUNCATED;
        }
        ipVersion = (bytes[offset] & 0xF0) >>> 4;
        if (ipVersion == 4) {
            return wrapIpv4(bytes, offset, length, wireLength);
        }
        if (ipVersion == 6) {
            return wrapIpv6(bytes, offset, length, wireLength);
        }
        return PacketStatus.NOT_IP;
    }

    /** Same as {@link #wrap(byte[], int, int, int)} for a packet captured whole. */
    public PacketStatus wrap(byte[] bytes, int offset, int length) {
        return wrap(bytes, offset, length, length);
    }

    private PacketStatus wrapIpv4(byte[] b, int off, int length, int wireLength) {
        if (length < 20) {
            return wireLength < 20 ? PacketStatus.MALFORMED : PacketStatus.TRUNCATED;
        }
        int ihl = (b[off] & 0x0F) * 4;
        if (ihl < 20) {
            return PacketStatus.MALFORMED;
        }
        int total = u16(b, off + 2);
        if (total == 0) {
            // Segmentation offload on the capturing host leaves the length field 0; trust what was captured.
            total = wireLength;
        }
        if (total < ihl) {
            return PacketStatus.MALFORMED;
        }
        int fragment = u16(b, off + 6);
        if ((fragment & 0x3FFF) != 0) { // MF flag or a non-zero fragment offset
            return PacketStatus.FRAGMENT;
        }
        if ((b[off + 9] & 0xFF) != PROTO_TCP) {
            return PacketStatus.NOT_TCP;
        }
        addressLength = 4;
        srcAddressOffset = off + 12;
        dstAddressOffset = off + 16;
        return wrapTcp(b, off, off + ihl, total, length);
    }

    private PacketStatus wrapIpv6(byte[] b, int off, int length, int wireLength) {
        if (length < 40) {
            return wireLength < 40 ? PacketStatus.MALFORMED : PacketStatus.TRUNCATED;
        }
        int total = 40 + u16(b, off + 4);
        if (total == 40 && wireLength > 40) {
            total = wireLength; // jumbogram or offload: the payload length field says 0
        }
        int next = b[off + 6] & 0xFF;
        int p = off + 40;
        int end = off + Math.min(total, length);
        // Walk extension headers until TCP or something that is not an extension header.
        while (true) {
            switch (next) {
                case PROTO_TCP:
                    addressLength = 16;
                    srcAddressOffset = off + 8;
                    dstAddressOffset = off + 24;
                    return wrapTcp(b, off, p, total, length);
                case 44: // fragment header
                    return PacketStatus.FRAGMENT;
                case 0: case 43: case 60: case 51: { // hop-by-hop, routing, destination options, AH
                    if (p + 2 > end) {
                        return p + 2 > off + total ? PacketStatus.MALFORMED : PacketStatus.TRUNCATED;
                    }
                    int extLen = next == 51 ? ((b[p + 1] & 0xFF) + 2) * 4 : ((b[p + 1] & 0xFF) + 1) * 8;
                    next = b[p] & 0xFF;
                    p += extLen;
                    if (p > off + total) {
                        return PacketStatus.MALFORMED;
                    }
                    break;
                }
                default:
                    return PacketStatus.NOT_TCP;
            }
        }
    }

    private PacketStatus wrapTcp(byte[] b, int ipOff, int tcpOff, int ipTotal, int captured) {
        if (tcpOff + 20 > ipOff + ipTotal) {
            return PacketStatus.MALFORMED;
        }
        if (tcpOff + 20 > ipOff + captured) {
            return PacketStatus.TRUNCATED;
        }
        int dataOffset = ((b[tcpOff + 12] & 0xF0) >>> 4) * 4;
        if (dataOffset < 20 || tcpOff + dataOffset > ipOff + ipTotal) {
            return PacketStatus.MALFORMED;
        }
        if (captured < ipTotal) {
            return PacketStatus.TRUNCATED;
        }
        this.ipLength = ipTotal;
        this.tcpOffset = tcpOff;
        this.tcpHeaderLength = dataOffset;
        this.payloadOffset = tcpOff + dataOffset;
        this.payloadLength = ipOff + ipTotal - payloadOffset;
        return PacketStatus.TCP;
    }

    private static int u16(byte[] b, int p) {
        return ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
    }

    private static long u32(byte[] b, int p) {
        return ((long) (b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
    }

    /** The array the view reads from. */
    public byte[] array() {
        return buf;
    }

    /** 4 or 6. */
    public int ipVersion() {
        return ipVersion;
    }

    public int ipOffset() {
        return ipOffset;
    }

    /** Length of the IP packet from its header, without link-layer padding. */
    public int ipLength() {
        return ipLength;
    }

    /** 4 for IPv4, 16 for IPv6. */
    public int addressLength() {
        return addressLength;
    }

    public int srcAddressOffset() {
        return srcAddressOffset;
    }

    public int dstAddressOffset() {
        return dstAddressOffset;
    }

    public int srcPort() {
        return u16(buf, tcpOffset);
    }

    public int dstPort() {
        return u16(buf, tcpOffset + 2);
    }

    /** TCP sequence number, unsigned. */
    public long seq() {
        return u32(buf, tcpOffset + 4);
    }

    /** TCP acknowledgement number, unsigned. */
    public long ackNumber() {
        return u32(buf, tcpOffset + 8);
    }

    /** TCP flag bits (FIN, SYN, RST, PSH, ACK, ...). */
    public int flags() {
        return buf[tcpOffset + 13] & 0x3F;
    }

    public boolean hasFlag(int flag) {
        return (flags() & flag) != 0;
    }

    public int window() {
        return u16(buf, tcpOffset + 14);
    }

    public int tcpOffset() {
        return tcpOffset;
    }

    public int tcpHeaderLength() {
        return tcpHeaderLength;
    }

    public int payloadOffset() {
        return payloadOffset;
    }

    public int payloadLength() {
        return payloadLength;
    }

    /** The MSS option of this segment, or -1 when absent. */
    public int mssOption() {
        int p = findOption(2, 4);
        return p < 0 ? -1 : u16(buf, p + 2);
    }

    /** The window-scale shift of this segment, or -1 when absent. */
    public int windowScaleOption() {
        int p = findOption(3, 3);
        return p < 0 ? -1 : buf[p + 2] & 0xFF;
    }

    public boolean sackPermittedOption() {
        return findOption(4, 2) >= 0;
    }

    /** TSval of the timestamps option, or -1 when absent. */
    public long timestampValue() {
        int p = findOption(8, 10);
        return p < 0 ? -1 : u32(buf, p + 2);
    }

    /** TSecr of the timestamps option, or -1 when absent. */
    public long timestampEcho() {
        int p = findOption(8, 10);
        return p < 0 ? -1 : u32(buf, p + 6);
    }

    /** Offset of option {@code kind} with exactly {@code length} bytes, or -1 (also for malformed options). */
    private int findOption(int kind, int length) {
        int p = tcpOffset + 20;
        int end = tcpOffset + tcpHeaderLength;
        while (p < end) {
            int k = buf[p] & 0xFF;
            if (k == 0) {
                return -1;
            }
            if (k == 1) {
                p++;
                continue;
            }
            if (p + 1 >= end) {
                return -1;
            }
            int len = buf[p + 1] & 0xFF;
            if (len < 2 || p + len > end) {
                return -1;
            }
            if (k == kind) {
                return len == length ? p : -1;
            }
            p += len;
        }
        return -1;
    }
}
