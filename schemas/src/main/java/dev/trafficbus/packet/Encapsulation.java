package dev.trafficbus.packet;

/** The tunnel and link encapsulations {@link Decapsulation} steps over; {@link #label()} names it in counters. */
public enum Encapsulation {
    /** MPLS label stack (ethertype 0x8847 / 0x8848) over IP. */
    MPLS("mpls"),
    /** PPPoE session (ethertype 0x8864) carrying PPP IPv4 or IPv6. */
    PPPOE("pppoe"),
    /** GRE (IP protocol 47), with or without checksum, key and sequence fields, carrying IP or Ethernet. */
    GRE("gre"),
    /** ERSPAN type I, II or III: GRE carrying a mirrored Ethernet frame (or, type III, an IP packet). */
    ERSPAN("erspan"),
    /** VXLAN (UDP port 4789) carrying an Ethernet frame. */
    VXLAN("vxlan"),
    /** GENEVE (UDP port 6081) carrying an Ethernet frame or an IP packet. */
    GENEVE("geneve"),
    /** IPv4 in IP (IP protocol 4). */
    IP_IN_IP("ip-in-ip"),
    /** IPv6 in IP (IP protocol 41, e.g. 6in4). */
    IPV6_IN_IP("ipv6-in-ip");

    private final String label;

    Encapsulation(String label) {
        this.label = label;
    }

    /** The stable name, e.g. {@code vxlan}. */
    public String label() {
        return label;
    }
}
