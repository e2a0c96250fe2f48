package dev.trafficbus.packet;

/** What a {@link PacketView} found when it looked at the bytes of one IP packet. */
public enum PacketStatus {
    /** A whole TCP segment: every header field and the full payload are present. */
    TCP,
    /** Not IPv4 or IPv6. */
    NOT_IP,
    /** IP, but the transport is not TCP. */
    NOT_TCP,
    /** An IP fragment: the TCP segment cannot be read from this packet alone. */
    FRAGMENT,
    /** The capture cut the packet short (snaplen): headers or payload are missing. */
    TRUNCATED,
    /** Header lengths or fields that contradict each other. */
    MALFORMED
}
