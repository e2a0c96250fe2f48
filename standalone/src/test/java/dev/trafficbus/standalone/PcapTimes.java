package dev.trafficbus.standalone;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads when each captured session started (its client SYN) from a classic Ethernet pcap fixture. */
final class PcapTimes {
    private static final int ETHERNET_HEADER = 14;

    private PcapTimes() {
    }

    /** Capture times in microseconds of the SYNs sent to {@code port}, in file order. */
    static List<Long> sessionStartsMicros(Path pcap, int port) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(pcap));
        int magic = buf.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
            buf.order(ByteOrder.BIG_ENDIAN);
            magic = buf.getInt(0);
        }
        boolean nanos = magic == 0xa1b23c4d;
        if (buf.getInt(20) != 1) {
            throw new IllegalArgumentException(pcap + " is not an Ethernet capture");
        }
        List<Long> starts = new ArrayList<>();
        PacketView view = new PacketView();
        int pos = 24;
        while (pos + 16 <= buf.limit()) {
            long sec = Integer.toUnsignedLong(buf.getInt(pos));
            long frac = Integer.toUnsignedLong(buf.getInt(pos + 4));
            int caplen = buf.getInt(pos + 8);
            int origlen = buf.getInt(pos + 12);
            int data = pos + 16;
            if (data + caplen > buf.limit()) {
                break;
            }
            if (caplen > ETHERNET_HEADER && view.wrap(buf.array(), data + ETHERNET_HEADER, caplen - ETHERNET_HEADER,
                    origlen - ETHERNET_HEADER) == PacketStatus.TCP
                    && view.dstPort() == port && view.hasFlag(PacketView.SYN) && !view.hasFlag(PacketView.ACK)) {
                starts.add(sec * 1_000_000L + (nanos ? frac / 1000 : frac));
            }
            pos = data + caplen;
        }
        return starts;
    }
}
