package dev.trafficbus.packet;

/**
 * The link-layer headers trafficbus can strip (forwarder and intercept alike), by libpcap link type (DLT).
 * {@link #ipOffset} finds where the IP packet starts in a captured frame without allocating.
 */
public enum LinkLayer {
    /** DLT_EN10MB: Ethernet II, with any number of 802.1Q / 802.1ad tags. */
    ETHERNET("Ethernet"),
    /** DLT_LINUX_SLL: Linux cooked capture v1 ({@code tcpdump -i any}), 16-byte header. */
    LINUX_SLL("Linux cooked v1"),
    /** DLT_LINUX_SLL2: Linux cooked capture v2, 20-byte header. */
    LINUX_SLL2("Linux cooked v2"),
    /** DLT_NULL: BSD loopback, 4-byte address family in the capturing host's byte order. */
    BSD_NULL("BSD loopback"),
    /** DLT_LOOP: OpenBSD loopback, 4-byte address family in network byte order. */
    BSD_LOOP("OpenBSD loopback"),
    /** DLT_RAW and friends: the frame is the IP packet. */
    RAW_IP("raw IP"),
    /** LINKTYPE_IPV4: the frame is an IPv4 packet. */
    IPV4("raw IPv4"),
    /** LINKTYPE_IPV6: the frame is an IPv6 packet. */
    IPV6("raw IPv6"),
    /**
     * DLT_PPP and DLT_PPP_SERIAL: a PPP frame, with or without the HDLC address and control bytes (FF 03), protocol
     * 0x0021 (IPv4) or 0x0057 (IPv6); other protocols (LCP, IPCP, ...) are not IP.
     */
    PPP("PPP"),
    /**
     * LINKTYPE_NFLOG: Linux netfilter log ({@code tcpdump -i nflog:N}), a 4-byte header then TLVs in the capturing
     * host's byte order, one of them (type 9) the IP packet.
     */
    NFLOG("Linux netfilter log");

    /** {@link #ipOffset} result: the frame does not carry IPv4 or IPv6. */
    public static final int NOT_IP = -1;
    /** {@link #ipOffset} result: the capture cut the frame inside its link-layer header. */
    public static final int TRUNCATED = -2;

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;

    private final String description;

    LinkLayer(String description) {
        this.description = description;
    }

    /** A short human name, e.g. "Linux cooked v2". */
    public String description() {
        return description;
    }

    /** The layer for a libpcap DLT value, or null when that link type cannot be read. */
    public static LinkLayer forDlt(int dlt) {
        switch (dlt) {
            case 0: return BSD_NULL;
            case 1: return ETHERNET;
            case 12: case 14: case 101: return RAW_IP; // DLT_RAW differs between platforms; 101 is LINKTYPE_RAW
            case 108: return BSD_LOOP;
            case 113: return LINUX_SLL;
            case 228: return IPV4;
            case 229: return IPV6;
            case 276: return LINUX_SLL2;
            case 9: case 50: return PPP;
            case 239: return NFLOG;
            default: return null;
        }
    }

    /**
     * Offset of the IP header in {@code frame[0, capturedLength)}, or {@link #NOT_IP} / {@link #TRUNCATED}.
     * The IP version itself is checked later by the packet view.
     */
    public int ipOffset(byte[] frame, int capturedLength) {
        switch (this) {
            case ETHERNET:
                return afterEthertype(frame, capturedLength, 12);
            case LINUX_SLL:
                return afterEthertype(frame, capturedLength, 14);
            case LINUX_SLL2:
                if (capturedLength < 20) {
                    return TRUNCATED;
                }
                // SLL2 keeps the protocol first and the rest of its 20-byte header after it.
                return ipEthertype(u16(frame, 0)) ? 20 : NOT_IP;
            case BSD_NULL:
                return capturedLength < 4 ? TRUNCATED : bsdFamily(hostOrderFamily(frame));
            case BSD_LOOP:
                return capturedLength < 4 ? TRUNCATED : bsdFamily(u32(frame, 0));
            case PPP:
                return pppPayload(frame, capturedLength);
            case NFLOG:
                return nflogPayload(frame, capturedLength);
            default:
                return 0;
        }
    }

    /** Reads the ethertype at {@code typeOffset}, steps over VLAN tags, MPLS labels, PPPoE; returns where IP starts. */
    private static int afterEthertype(byte[] frame, int capturedLength, int typeOffset) {
        return Decapsulation.etherPayload(frame, capturedLength, typeOffset, null);
    }

    private static final int PPP_IPV4 = 0x0021;
    private static final int PPP_IPV6 = 0x0057;
    private static final int NFLOG_HEADER = 4;
    private static final int NFULA_PAYLOAD = 9;

    /** After the optional FF 03 and the protocol field (one byte when compressed: its low bit set). */
    private static int pppPayload(byte[] frame, int capturedLength) {
        int p = capturedLength >= 2 && (frame[0] & 0xFF) == 0xFF && frame[1] == 0x03 ? 2 : 0;
        if (capturedLength < p + 1) {
            return TRUNCATED;
        }
        int protocol;
        if ((frame[p] & 1) == 1) {
            protocol = frame[p] & 0xFF;
            p += 1;
        } else {
            if (capturedLength < p + 2) {
                return TRUNCATED;
            }
            protocol = u16(frame, p);
            p += 2;
        }
        return protocol == PPP_IPV4 || protocol == PPP_IPV6 ? p : NOT_IP;
    }

    /**
     * Where the payload TLV's value starts. The TLV lengths are in the capturing host's byte order, which the file
     * does not record: the order in which the TLVs exactly tile the frame is the right one (little-endian first,
     * the hosts that log most).
     */
    private static int nflogPayload(byte[] frame, int capturedLength) {
        if (capturedLength < NFLOG_HEADER) {
            return TRUNCATED;
        }
        int family = frame[0] & 0xFF;
        if (family != 2 && family != 10) { // AF_INET, AF_INET6
            return NOT_IP;
        }
        int little = nflogTlvs(frame, capturedLength, true);
        return little >= 0 || little == NOT_IP ? little : nflogTlvs(frame, capturedLength, false);
    }

    private static int nflogTlvs(byte[] frame, int capturedLength, boolean littleEndian) {
        int p = NFLOG_HEADER;
        while (p + 4 <= capturedLength) {
            int length = littleEndian ? (frame[p] & 0xFF) | (frame[p + 1] & 0xFF) << 8 : u16(frame, p);
            int type = littleEndian ? (frame[p + 2] & 0xFF) | (frame[p + 3] & 0xFF) << 8 : u16(frame, p + 2);
            if (length < 4) {
                return TRUNCATED;
            }
            if ((type & 0x7FFF) == NFULA_PAYLOAD) {
                // The payload may be cut by the snaplen; the packet view reports that as truncated.
                return p + 4 < capturedLength ? p + 4 : TRUNCATED;
            }
            p += (length + 3) & ~3;
        }
        // TLVs that tile the frame without a payload: a log entry without the packet (copy range 0). Anything else
        // is the wrong byte order or a frame cut short.
        return p == capturedLength ? NOT_IP : TRUNCATED;
    }

    private static boolean ipEthertype(int type) {
        return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6;
    }

    /**
     * DLT_NULL writes the family in the byte order of the host that captured, which the file does not
     * record; families fit in the low byte, so whichever end holds the non-zero byte is the right one.
     */
    private static long hostOrderFamily(byte[] frame) {
        long bigEndian = u32(frame, 0);
        return (bigEndian & 0xFFFF0000L) != 0 ? Long.reverseBytes(bigEndian) >>> 32 : bigEndian;
    }

    private static int bsdFamily(long family) {
        // AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS).
        return family == 2 || family == 24 || family == 28 || family == 30 ? 4 : NOT_IP;
    }

    private static int u16(byte[] b, int p) {
        return ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
    }

    private static long u32(byte[] b, int p) {
        return ((long) (b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
    }
}
