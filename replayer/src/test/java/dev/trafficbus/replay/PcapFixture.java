package dev.trafficbus.replay;

import dev.trafficbus.session.Conversation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the TCP packets of a classic pcap file written by tcpdump (Ethernet, Linux cooked or raw IP link
 * types), deciding direction by the service port the way the forwarder does. Test scope only: enough for
 * the shared real-traffic fixtures.
 */
final class PcapFixture {
    private PcapFixture() {
    }

    static List<Conversation.Packet> read(Path file, int servicePort) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        int magic = b.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        boolean nanos;
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
            b.order(ByteOrder.LITTLE_ENDIAN);
        } else {
            b.order(ByteOrder.BIG_ENDIAN);
            magic = b.getInt(0);
        }
        if (magic == 0xa1b2c3d4) {
            nanos = false;
        } else if (magic == 0xa1b23c4d) {
            nanos = true;
        } else {
            throw new IOException(file + " is not a classic pcap file");
        }
        int linkType = b.getInt(20);
        List<Conversation.Packet> out = new ArrayList<>();
        int p = 24;
        while (p + 16 <= b.limit()) {
            long sec = b.getInt(p) & 0xFFFF_FFFFL;
            long frac = b.getInt(p + 4) & 0xFFFF_FFFFL;
            int captured = b.getInt(p + 8);
            int start = p + 16;
            p = start + captured;
            int ip = switch (linkType) {
                case 1 -> ethernetPayload(b, start);
                case 113 -> start + 16;
                case 276 -> start + 20;
                case 101 -> start;
                default -> throw new IOException("link type " + linkType + " is not supported here");
            };
            if (ip < 0 || ip >= p) {
                continue;
            }
            byte[] packet = Arrays.copyOfRange(b.array(), ip, p);
            int version = (packet[0] & 0xF0) >>> 4;
            int proto = version == 4 ? packet[9] : version == 6 ? packet[6] : -1;
            if (proto != 6) {
                continue;
            }
            int tcp = version == 4 ? (packet[0] & 0x0F) * 4 : 40;
            int dstPort = ((packet[tcp + 2] & 0xFF) << 8) | (packet[tcp + 3] & 0xFF);
            long micros = sec * 1_000_000 + (nanos ? frac / 1000 : frac);
            out.add(new Conversation.Packet(dstPort == servicePort, packet, micros));
        }
        return out;
    }

    private static int ethernetPayload(ByteBuffer b, int start) {
        byte[] a = b.array(); // frame fields are big-endian whatever the file's byte order
        int type = ((a[start + 12] & 0xFF) << 8) | (a[start + 13] & 0xFF);
        int off = start + 14;
        if (type == 0x8100) {
            type = ((a[start + 16] & 0xFF) << 8) | (a[start + 17] & 0xFF);
            off += 4;
        }
        return type == 0x0800 || type == 0x86DD ? off : -1;
    }
}
