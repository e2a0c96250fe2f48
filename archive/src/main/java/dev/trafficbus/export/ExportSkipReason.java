package dev.trafficbus.export;

/** Why a record in the window was not written to the pcap file. */
public enum ExportSkipReason {
    /** The value is not a CapturedPacket (another schema, a tombstone, damaged bytes). */
    UNDECODABLE("undecodable"),
    /** The packet bytes do not start with an IPv4 or IPv6 header. */
    NOT_IP("not-ip"),
    /** The capture time cannot be stored in pcap (before 1970 or after 2106). */
    BAD_TIMESTAMP("bad-timestamp");

    private final String label;

    ExportSkipReason(String label) {
        this.label = label;
    }

    /** The reason as printed in the summary. */
    public String label() {
        return label;
    }
}
