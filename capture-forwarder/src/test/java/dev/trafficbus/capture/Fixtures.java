package dev.trafficbus.capture;

import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The real captures under src/test/resources/pcap (made by make-fixtures.sh; counts in its README).
 * Every count below was taken with tcpdump filters on the committed files, service port 8080.
 */
final class Fixtures {
    /** A frame as libpcap delivered it, with its time in microseconds. */
    record Frame(byte[] bytes, int wireLength, long micros) {
    }

    /** Expected counters of one fixture with service port 8080. */
    record Expected(String file, int dlt, int total, int published, int notPort, int notTcp, int notIp,
                    int fragments, int truncated, int connections) {
    }

    // published = tcpdump 'tcp port 8080' (less the segments cut by the snaplen); not-port = 'tcp and not
    // port 8080'; not-tcp = '(ip and not tcp and not fragment) or (ip6 and not tcp)'; not-ip = 'not ip and
    // not ip6'; fragments = 'ip[6:2] & 0x3fff != 0'; vlan.pcap and qinq.pcap with 'vlan and ' prefixes.
    static final Expected ETHERNET = new Expected("ethernet.pcap", 1, 79, 50, 12, 11, 2, 4, 0, 4);
    static final Expected PCAPNG = new Expected("ethernet.pcapng", 1, 79, 50, 12, 11, 2, 4, 0, 4);
    static final Expected VLAN = new Expected("vlan.pcap", 1, 79, 50, 12, 11, 2, 4, 0, 4);
    static final Expected QINQ = new Expected("qinq.pcap", 1, 79, 50, 12, 11, 2, 4, 0, 4);
    static final Expected SLL = new Expected("sll.pcap", 113, 38, 24, 13, 1, 0, 0, 0, 2);
    static final Expected SLL2 = new Expected("sll2.pcap", 276, 36, 24, 12, 0, 0, 0, 0, 2);
    static final Expected RAW = new Expected("raw.pcap", 12, 42, 27, 13, 2, 0, 0, 0, 2);
    // 12 packets of port 8080, 3 of them longer than the 80-byte snaplen: tcpdump 'tcp port 8080 and greater 81'.
    static final Expected SNAPLEN80 = new Expected("snaplen80.pcap", 1, 15, 9, 0, 3, 0, 0, 3, 1);

    static final List<Expected> ALL = List.of(ETHERNET, PCAPNG, VLAN, QINQ, SLL, SLL2, RAW, SNAPLEN80);

    private Fixtures() {
    }

    static Path path(String name) {
        URL url = Fixtures.class.getResource("/pcap/" + name);
        if (url == null) {
            throw new IllegalStateException("fixture " + name + " is missing from src/test/resources/pcap");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The link type libpcap reports for the file. */
    static int dlt(String name) throws Exception {
        try (PcapHandle h = Pcaps.openOffline(path(name).toString())) {
            return h.getDlt().value();
        }
    }

    /** All frames of a fixture, read with libpcap. */
    static List<Frame> frames(String name) throws Exception {
        List<Frame> frames = new ArrayList<>();
        try (PcapHandle h = Pcaps.openOffline(path(name).toString(), PcapHandle.TimestampPrecision.MICRO)) {
            h.loop(-1, (byte[] raw) -> frames.add(new Frame(raw, h.getOriginalLength(), micros(h.getTimestamp()))));
        }
        return frames;
    }

    private static long micros(java.sql.Timestamp ts) {
        return Math.floorDiv(ts.getTime(), 1000L) * 1_000_000L + ts.getNanos() / 1000;
    }
}
