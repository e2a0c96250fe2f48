package dev.trafficbus.export;

/** Why a record, or a packet of a record in the window, was not written to the pcap file. */
public enum ExportSkipReason {
    /** The value is not a CapturedPackets value (another schema, a tombstone, damaged bytes): a whole record. */
    UNDECODABLE("undecodable", true),
    /** The packet bytes do not start with an IPv4 or IPv6 header. */
    NOT_IP("not-ip", false),
    /** The capture time cannot be stored in pcap (before 1970 or after 2106). */
    BAD_TIMESTAMP("bad-timestamp", false);

    private final String label;
    private final boolean perRecord;

    ExportSkipReason(String label, boolean perRecord) {
        this.label = label;
        this.perRecord = perRecord;
    }

    /** The reason as printed in the summary. */
    public String label() {
        return label;
    }

    /** True when the reason counts records (whose packets cannot be told apart), false when it counts packets. */
    public boolean perRecord() {
        return perRecord;
    }
}
