package dev.trafficbus.packet;

/**
 * What live capture (forward --interface, intercept) says when libpcap cannot be loaded: one line naming the Debian
 * package and the command that installs it. Reading capture files never needs libpcap.
 */
public final class LibpcapRequirement {
    /** The Debian package that holds the libpcap that pcap4j loads. */
    public static final String DEBIAN_PACKAGE = "libpcap0.8";

    private LibpcapRequirement() {
    }

    /** E.g. "live capture (--interface) needs libpcap, which is not installed (...): sudo apt-get install libpcap0.8 (...)". */
    public static String missing(String what) {
        return what + " needs libpcap, which is not installed (or cannot be loaded): sudo apt-get install " + DEBIAN_PACKAGE
                + " (the Debian/Ubuntu package " + DEBIAN_PACKAGE + "; dnf install libpcap elsewhere)";
    }
}
