package dev.trafficbus.capture;

/** Why the forwarder did not publish a captured frame; {@link #label()} is the stable name in counters and output. */
public enum SkipReason {
    /** Not IPv4 or IPv6 (ARP, LLDP, other link-layer protocols). */
    NOT_IP("not-ip"),
    /** IP, but not TCP (UDP, ICMP, ...). */
    NOT_TCP("not-tcp"),
    /** An IP fragment: the TCP segment cannot be read from it alone. */
    IP_FRAGMENT("ip-fragment"),
    /** The capture's snaplen cut the frame short. */
    TRUNCATED("truncated"),
    /**
     * Header fields that contradict each other; also a record time before 1970 or whose fraction is a second or
     * more (a damaged record header: such a time is never carried into the seconds).
     */
    MALFORMED("malformed"),
    /** TCP, but neither port is a service port. */
    NOT_PORT("not-port"),
    /** Captured on an interface whose link type cannot be read (a pcapng file with several interfaces). */
    LINK_TYPE("link-type"),
    /** A capture time outside what the topic accepts (message.timestamp.before/after.max.ms): the broker would refuse it. */
    TIMESTAMP_OUT_OF_RANGE("timestamp-out-of-range"),
    /** Larger than the topic's max.message.bytes (or the producer's max.request.size) allows, even alone in a record. */
    OVERSIZED("oversized");


    private final String label;

    SkipReason(String label) {
        this.label = label;
    }

    /** The stable name, e.g. {@code not-tcp}. */
    public String label() {
        return label;
    }
}
