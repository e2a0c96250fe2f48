package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.packet.TestPackets;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Hand-built packets of one TCP session (for topology unit tests), encoded as capture records. */
final class TestSession {
    static final int FIN = PacketView.FIN;
    static final int SYN = PacketView.SYN;
    static final int RST = PacketView.RST;
    static final int PSH = PacketView.PSH;
    static final int ACK = PacketView.ACK;

    /**
     * One capture record: flow key, value, capture time of its first packet, and for a one-packet record the IP
     * packet, its encoded item and TCP flags (what {@link #batch} needs).
     */
    record Packet(byte[] key, byte[] value, long micros, boolean clientToServer, byte[] ip, byte[] encoded, int flags) {
        /** Packets in the record. */
        int packetCount() {
            return new CapturedPacketCodec.Reader().read(value).packetCount();
        }
    }

    private final int[] client;
    private final int clientPort;
    private final int[] server;
    private final int serverPort;
    private long clientSeq;
    private long serverSeq;
    private long micros;
    private long sequence;
    final long isn;
    final List<Packet> packets = new ArrayList<>();

    TestSession(int[] client, int clientPort, int[] server, int serverPort, long isn, long startMicros) {
        this.client = client;
        this.clientPort = clientPort;
        this.server = server;
        this.serverPort = serverPort;
        this.isn = isn;
        this.clientSeq = isn;
        this.serverSeq = isn * 31 + 7;
        this.micros = startMicros;
    }

    static TestSession of(int clientPort, long startMicros) {
        return new TestSession(new int[] {10, 0, 0, 2}, clientPort, new int[] {10, 0, 0, 1}, 80,
                clientPort * 7919L, startMicros);
    }

    TestSession handshake() {
        client(SYN, new byte[0]);
        clientSeq++;
        server(SYN | ACK, new byte[0]);
        serverSeq++;
        return client(ACK, new byte[0]);
    }

    /** A client segment carrying {@code data}; the sequence advances. */
    TestSession client(String data) {
        return client(PSH | ACK, data.getBytes(StandardCharsets.ISO_8859_1));
    }

    TestSession server(String data) {
        return server(PSH | ACK, data.getBytes(StandardCharsets.ISO_8859_1));
    }

    TestSession client(int flags, byte[] data) {
        add(true, TestPackets.ipv4(client, clientPort, server, serverPort, clientSeq, serverSeq, flags, new byte[0], data));
        clientSeq += data.length;
        return this;
    }

    TestSession server(int flags, byte[] data) {
        add(false, TestPackets.ipv4(server, serverPort, client, clientPort, serverSeq, clientSeq, flags, new byte[0], data));
        serverSeq += data.length;
        return this;
    }

    TestSession close() {
        client(FIN | ACK, new byte[0]);
        clientSeq++;
        server(FIN | ACK, new byte[0]);
        serverSeq++;
        return client(ACK, new byte[0]);
    }

    /** A whole session: handshake, one request, one response, close. */
    static TestSession exchange(int clientPort, long startMicros, String request) {
        return of(clientPort, startMicros).handshake().client(request).server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .close();
    }

    private void add(boolean c2s, byte[] ip) {
        fixChecksum(ip);
        PacketView v = new PacketView();
        v.wrap(ip, 0, ip.length);
        byte[] key = FlowKey.keyBytes(v, c2s);
        Direction dir = c2s ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT;
        byte[] value = CapturedPacketCodec.encode(micros, dir, ip, 0, ip.length, ip.length, sequence);
        byte[] encoded = CapturedPacketCodec.encodePacket(micros, dir, ip, 0, ip.length, ip.length, sequence++);
        packets.add(new Packet(key, value, micros, c2s, ip, encoded, v.flags()));
        micros += 100;
    }

    /**
     * One-packet records grouped as the forwarder batches them: consecutive packets of one flow key share a
     * record, a client SYN (SYN without ACK) starts a new one, a FIN or RST ends one, at most {@code max} each.
     */
    static List<Packet> batch(List<Packet> singles, int max) {
        if (max <= 1) {
            return singles;
        }
        List<Packet> out = new ArrayList<>();
        List<Packet> open = new ArrayList<>();
        for (Packet p : singles) {
            boolean clientSyn = p.clientToServer() && (p.flags() & SYN) != 0 && (p.flags() & ACK) == 0;
            if (!open.isEmpty() && (clientSyn || !Arrays.equals(open.get(0).key(), p.key()))) {
                out.add(join(open));
            }
            open.add(p);
            if ((p.flags() & (FIN | RST)) != 0 || open.size() == max) {
                out.add(join(open));
            }
        }
        if (!open.isEmpty()) {
            out.add(join(open));
        }
        return out;
    }

    /** One record of the given one-packet records (emptied afterwards). */
    static Packet join(List<Packet> open) {
        CapturedPacketCodec.Builder b = new CapturedPacketCodec.Builder();
        open.forEach(p -> b.add(p.encoded()));
        Packet first = open.get(0);
        Packet joined = open.size() == 1 ? first
                : new Packet(first.key(), b.build(), first.micros(), first.clientToServer(), null, null, 0);
        open.clear();
        return joined;
    }

    /** Writes a correct TCP checksum, so tests can check that redaction keeps it correct. */
    static void fixChecksum(byte[] ip) {
        int ihl = (ip[0] & 0x0F) * 4;
        ip[ihl + 16] = 0;
        ip[ihl + 17] = 0;
        int c = tcpChecksum(ip);
        ip[ihl + 16] = (byte) (c >>> 8);
        ip[ihl + 17] = (byte) c;
    }

    /** The TCP checksum of an IPv4 packet computed from scratch (0 in the field gives the value to write). */
    static int tcpChecksum(byte[] ip) {
        int ihl = (ip[0] & 0x0F) * 4;
        int total = ((ip[2] & 0xFF) << 8) | (ip[3] & 0xFF);
        int tcpLen = total - ihl;
        long sum = 0;
        for (int i = 12; i < 20; i += 2) {
            sum += ((ip[i] & 0xFF) << 8) | (ip[i + 1] & 0xFF);
        }
        sum += 6 + tcpLen;
        for (int i = ihl; i < total; i += 2) {
            int hi = ip[i] & 0xFF;
            int lo = i + 1 < total ? ip[i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }
}
