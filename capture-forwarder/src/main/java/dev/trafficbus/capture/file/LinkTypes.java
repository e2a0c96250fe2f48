package dev.trafficbus.capture.file;

import java.util.Map;

/** libpcap's names of the common link types, so a message can name one without libpcap. */
final class LinkTypes {
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "NULL"), Map.entry(1, "EN10MB"), Map.entry(6, "IEEE802"), Map.entry(9, "PPP"),
            Map.entry(10, "FDDI"), Map.entry(12, "RAW"), Map.entry(14, "RAW"), Map.entry(101, "RAW"),
            Map.entry(104, "C_HDLC"), Map.entry(105, "IEEE802_11"), Map.entry(108, "LOOP"),
            Map.entry(113, "LINUX_SLL"), Map.entry(119, "PRISM_HEADER"), Map.entry(127, "IEEE802_11_RADIO"),
            Map.entry(147, "USER0"), Map.entry(187, "BLUETOOTH_HCI_H4"), Map.entry(189, "USB_LINUX"),
            Map.entry(195, "IEEE802_15_4"), Map.entry(201, "BLUETOOTH_HCI_H4_WITH_PHDR"), Map.entry(220, "USB_LINUX_MMAPPED"),
            Map.entry(227, "CAN_SOCKETCAN"), Map.entry(228, "IPV4"), Map.entry(229, "IPV6"), Map.entry(239, "NFLOG"),
            Map.entry(249, "USBPCAP"), Map.entry(253, "NETLINK"), Map.entry(276, "LINUX_SLL2"));

    private LinkTypes() {
    }

    /** libpcap's name, or "LINKTYPE_n" for one this table does not hold. */
    static String name(int linkType) {
        return NAMES.getOrDefault(linkType, "LINKTYPE_" + linkType);
    }

    /** "IEEE802_11 (DLT 105)". */
    static String describe(int linkType) {
        return name(linkType) + " (DLT " + linkType + ")";
    }
}
