package dev.trafficbus.packet;

/**
 * Finds the innermost IP packet of a captured frame: steps over the link layer, then over tunnels (MPLS, PPPoE,
 * GRE and ERSPAN, VXLAN, GENEVE, IP-in-IP) as cloud traffic mirroring delivers them, so the inner TCP packet is
 * read as if it had been captured directly. Only offsets move (no copy, no allocation); the outermost tunnel
 * crossed is kept for counting. Reusable, not thread-safe: one per capture loop.
 */
public final class Decapsulation {
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_8021Q = 0x8100;
    private static final int ETHERTYPE_8021AD = 0x88A8;
    private static final int ETHERTYPE_QINQ_OLD = 0x9100;
    private static final int ETHERTYPE_MPLS = 0x8847;
    private static final int ETHERTYPE_MPLS_MULTICAST = 0x8848;
    private static final int ETHERTYPE_PPPOE_SESSION = 0x8864;
    private static final int ETHERTYPE_TRANSPARENT_BRIDGING = 0x6558;
    private static final int ETHERTYPE_ERSPAN_2 = 0x88BE;
    private static final int ETHERTYPE_ERSPAN_3 = 0x22EB;
    private static final int PPP_IPV4 = 0x0021;
    private static final int PPP_IPV6 = 0x0057;
    private static final int PROTO_IPIP = 4;
    private static final int PROTO_UDP = 17;
    private static final int PROTO_IPV6 = 41;
    private static final int PROTO_GRE = 47;
    private static final int VXLAN_PORT = 4789;
    private static final int GENEVE_PORT = 6081;
    // Bounds that keep a hostile frame cheap: more tags, labels or tunnels than this is not real traffic.
    private static final int MAX_TAGS = 8;
    private static final int MAX_TUNNELS = 4;

    private Encapsulation outermost;

    /**
     * Offset of the innermost IP header in {@code frame[0, capturedLength)} of link layer {@code layer}, or
     * {@link LinkLayer#NOT_IP} / {@link LinkLayer#TRUNCATED}; {@link #outermost()} then says which tunnel was
     * crossed first (null: none). A tunnel carrying something other than IP is NOT_IP, one cut inside its inner
     * headers TRUNCATED.
     */
    public int innerIpOffset(LinkLayer layer, byte[] frame, int capturedLength) {
        outermost = null;
        int ip;
        switch (layer) {
            case ETHERNET:
                ip = etherPayload(frame, capturedLength, 12, this);
                break;
            case LINUX_SLL:
                ip = etherPayload(frame, capturedLength, 14, this);
                break;
            default:
                ip = layer.ipOffset(frame, capturedLength);
        }
        if (ip < 0) {
            return ip;
        }
        for (int depth = 0; depth < MAX_TUNNELS; depth++) {
            int inner = tunnelPayload(frame, ip, capturedLength);
            if (inner < 0) {
                return inner; // a tunnel that carries no IP, or whose inner headers were cut off
            }
            if (inner == ip) {
                return ip;
            }
            ip = inner;
        }
        return ip;
    }

    /** The outermost encapsulation the last {@link #innerIpOffset} stepped over, or null. */
    public Encapsulation outermost() {
        return outermost;
    }

    private void crossed(Encapsulation kind) {
        if (outermost == null) {
            outermost = kind;
        }
    }

    /**
     * Where the IP packet starts after the ethertype at {@code typeOffset}: steps over 802.1Q/802.1ad tags, an MPLS
     * label stack and a PPPoE session header; noted in {@code seen} when given. NOT_IP / TRUNCATED otherwise.
     */
    static int etherPayload(byte[] frame, int capturedLength, int typeOffset, Decapsulation seen) {
        int p = typeOffset;
        for (int tags = 0; tags <= MAX_TAGS; tags++) {
            if (p + 2 > capturedLength) {
                return LinkLayer.TRUNCATED;
            }
            int type = u16(frame, p);
            switch (type) {
                case ETHERTYPE_IPV4:
                case ETHERTYPE_IPV6:
                    return p + 2;
                case ETHERTYPE_8021Q:
                case ETHERTYPE_8021AD:
                case ETHERTYPE_QINQ_OLD:
                    p += 4; // 2 bytes of tag control information, then the next ethertype
                    break;
                case ETHERTYPE_MPLS:
                case ETHERTYPE_MPLS_MULTICAST:
                    note(seen, Encapsulation.MPLS);
                    return afterLabels(frame, capturedLength, p + 2);
                case ETHERTYPE_PPPOE_SESSION: {
                    note(seen, Encapsulation.PPPOE);
                    // 6 bytes of PPPoE header (version/type, code, session, length), then the PPP protocol.
                    if (p + 2 + 8 > capturedLength) {
                        return LinkLayer.TRUNCATED;
                    }
                    int ppp = u16(frame, p + 8);
                    return ppp == PPP_IPV4 || ppp == PPP_IPV6 ? p + 10 : LinkLayer.NOT_IP;
                }
                default:
                    return LinkLayer.NOT_IP;
            }
        }
        return LinkLayer.NOT_IP;
    }

    private static void note(Decapsulation seen, Encapsulation kind) {
        if (seen != null) {
            seen.crossed(kind);
        }
    }

    /** After an MPLS label stack: 4-byte entries up to the one with the bottom-of-stack bit; IP must follow. */
    private static int afterLabels(byte[] frame, int capturedLength, int p) {
        for (int labels = 0; labels <= MAX_TAGS; labels++) {
            if (p + 4 > capturedLength) {
                return LinkLayer.TRUNCATED;
            }
            boolean bottom = (frame[p + 2] & 0x01) != 0;
            p += 4;
            if (bottom) {
                if (p >= capturedLength) {
                    return LinkLayer.TRUNCATED;
                }
                int version = (frame[p] & 0xF0) >>> 4;
                // A pseudowire (Ethernet over MPLS, control word first nibble 0) is not stepped into.
                return version == 4 || version == 6 ? p : LinkLayer.NOT_IP;
            }
        }
        return LinkLayer.NOT_IP;
    }

    /**
     * The inner IP offset of a tunnel packet at {@code ip}, {@code ip} itself when it is no tunnel (or one that
     * cannot be read whole), or NOT_IP when the tunnel carries something other than IP.
     */
    private int tunnelPayload(byte[] b, int ip, int captured) {
        if (ip + 1 > captured) {
            return ip;
        }
        int version = (b[ip] & 0xF0) >>> 4;
        int protocol;
        int payload;
        int end;
        if (version == 4) {
            if (ip + 20 > captured) {
                return ip;
            }
            int ihl = (b[ip] & 0x0F) * 4;
            int total = u16(b, ip + 2);
            if ((u16(b, ip + 6) & 0x3FFF) != 0 || ihl < 20) {
                return ip; // a fragment or a bad header: the packet view judges it
            }
            protocol = b[ip + 9] & 0xFF;
            payload = ip + ihl;
            end = total == 0 ? captured : Math.min(captured, ip + total);
        } else if (version == 6) {
            if (ip + 40 > captured) {
                return ip;
            }
            protocol = b[ip + 6] & 0xFF;
            payload = ip + 40;
            int length = u16(b, ip + 4);
            end = length == 0 ? captured : Math.min(captured, payload + length);
        } else {
            return ip;
        }
        switch (protocol) {
            case PROTO_IPIP:
                return innerIp(b, payload, end, 4, Encapsulation.IP_IN_IP, ip);
            case PROTO_IPV6:
                return innerIp(b, payload, end, 6, Encapsulation.IPV6_IN_IP, ip);
            case PROTO_GRE:
                return gre(b, payload, end, ip);
            case PROTO_UDP:
                return udp(b, payload, end, ip);
            default:
                return ip;
        }
    }

    /** An IP packet of {@code version} at {@code p}, else the outer packet {@code outer}. */
    private int innerIp(byte[] b, int p, int end, int version, Encapsulation kind, int outer) {
        if (p >= end || ((b[p] & 0xF0) >>> 4) != version) {
            return outer;
        }
        crossed(kind);
        return p;
    }

    /** GRE (RFC 2784/2890): flags say which of checksum, key and sequence follow the 4-byte base header. */
    private int gre(byte[] b, int p, int end, int outer) {
        if (p + 4 > end) {
            return outer;
        }
        int flags = u16(b, p);
        if ((flags & 0x0007) != 0) {
            return outer; // version 1 is PPTP's enhanced GRE, which carries PPP, not IP
        }
        int type = u16(b, p + 2);
        int q = p + 4;
        if ((flags & 0xC000) != 0) { // checksum or routing present: 4 bytes of checksum and offset
            q += 4;
        }
        boolean sequence = (flags & 0x1000) != 0;
        q += (flags & 0x2000) != 0 ? 4 : 0;
        q += sequence ? 4 : 0;
        switch (type) {
            case ETHERTYPE_IPV4:
            case ETHERTYPE_IPV6:
                crossed(Encapsulation.GRE);
                return q < end ? q : LinkLayer.TRUNCATED;
            case ETHERTYPE_TRANSPARENT_BRIDGING:
                crossed(Encapsulation.GRE);
                return ethernet(b, q, end);
            case ETHERTYPE_ERSPAN_2:
                crossed(Encapsulation.ERSPAN);
                // Type I has no sequence number and no ERSPAN header; type II has an 8-byte one.
                return ethernet(b, sequence ? q + 8 : q, end);
            case ETHERTYPE_ERSPAN_3: {
                crossed(Encapsulation.ERSPAN);
                // 12-byte header; the O bit adds an 8-byte platform subheader; frame type 0 Ethernet, 2 IP.
                if (q + 12 > end) {
                    return LinkLayer.TRUNCATED;
                }
                int frameType = (b[q + 10] >>> 2) & 0x1F;
                int inner = q + 12 + ((b[q + 11] & 0x01) != 0 ? 8 : 0);
                return frameType == 0 ? ethernet(b, inner, end) : frameType == 2 ? inner : LinkLayer.NOT_IP;
            }
            default:
                return outer;
        }
    }

    /** VXLAN or GENEVE by destination port; any other UDP is the outer packet itself. */
    private int udp(byte[] b, int p, int end, int outer) {
        if (p + 8 > end) {
            return outer;
        }
        int port = u16(b, p + 2);
        int q = p + 8;
        if (port == VXLAN_PORT) {
            crossed(Encapsulation.VXLAN);
            return ethernet(b, q + 8, end);
        }
        if (port == GENEVE_PORT) {
            crossed(Encapsulation.GENEVE);
            if (q + 8 > end) {
                return LinkLayer.TRUNCATED;
            }
            int inner = q + 8 + (b[q] & 0x3F) * 4; // option length in 4-byte words
            int type = u16(b, q + 2);
            if (type == ETHERTYPE_TRANSPARENT_BRIDGING) {
                return ethernet(b, inner, end);
            }
            return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6 ? inner : LinkLayer.NOT_IP;
        }
        return outer;
    }

    /** An inner Ethernet frame at {@code p}, ending at {@code end}: where its IP packet starts. */
    private int ethernet(byte[] b, int p, int end) {
        return etherPayload(b, end, p + 12, this);
    }

    private static int u16(byte[] b, int p) {
        return ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
    }
}
