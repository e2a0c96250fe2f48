package dev.trafficbus.session;

import dev.trafficbus.packet.PacketView;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes the packets of one synthetic TCP connection in order, keeping both sides' sequence and ACK
 * numbers right; tests then drop, reorder or duplicate entries of {@link #packets()} as they need.
 */
public final class Conversation {
    /** One packet with its direction and capture time. */
    public record Packet(boolean clientToServer, byte[] bytes, long tsMicros) {
        public PacketView view() {
            return TestPackets.view(bytes);
        }
    }

    private final String clientIp;
    private final int clientPort;
    private final String serverIp;
    private final int serverPort;
    private long clientNext;
    private long serverNext;
    private long ts;
    private final List<Packet> packets = new ArrayList<>();

    public Conversation(String clientIp, int clientPort, String serverIp, int serverPort, long clientIsn,
                        long serverIsn, long startMicros) {
        this.clientIp = clientIp;
        this.clientPort = clientPort;
        this.serverIp = serverIp;
        this.serverPort = serverPort;
        this.clientNext = clientIsn & 0xFFFF_FFFFL;
        this.serverNext = serverIsn & 0xFFFF_FFFFL;
        this.ts = startMicros;
    }

    public List<Packet> packets() {
        return packets;
    }

    public int clientPort() {
        return clientPort;
    }

    /** Moves the capture clock on. */
    public Conversation after(long micros) {
        ts += micros;
        return this;
    }

    /** SYN, SYN-ACK, ACK. */
    public Conversation handshake() {
        client(PacketView.SYN, new byte[0]);
        clientNext = TcpSeq.add(clientNext, 1);
        server(PacketView.SYN | PacketView.ACK, new byte[0]);
        serverNext = TcpSeq.add(serverNext, 1);
        client(PacketView.ACK, new byte[0]);
        return this;
    }

    /** The client skips its handshake in the capture: only moves its numbers as if it had happened. */
    public Conversation handshakeNotCaptured() {
        clientNext = TcpSeq.add(clientNext, 1);
        serverNext = TcpSeq.add(serverNext, 1);
        return this;
    }

    /** Client data in segments of at most {@code mss} bytes. */
    public Conversation clientSends(byte[] data, int mss) {
        for (int off = 0; off < data.length; off += mss) {
            byte[] seg = Arrays.copyOfRange(data, off, Math.min(data.length, off + mss));
            client(PacketView.ACK | PacketView.PSH, seg);
            clientNext = TcpSeq.add(clientNext, seg.length);
            ts += 10;
        }
        return this;
    }

    public Conversation clientSends(String data) {
        return clientSends(data.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 1460);
    }

    /** Server data in segments of at most {@code mss} bytes, then the client's ACK. */
    public Conversation serverSends(byte[] data, int mss) {
        for (int off = 0; off < data.length; off += mss) {
            byte[] seg = Arrays.copyOfRange(data, off, Math.min(data.length, off + mss));
            server(PacketView.ACK | PacketView.PSH, seg);
            serverNext = TcpSeq.add(serverNext, seg.length);
            ts += 10;
        }
        client(PacketView.ACK, new byte[0]);
        return this;
    }

    /** The server's answer is not in the capture, only the client's ACK of it. */
    public Conversation serverSendsNotCaptured(int bytes) {
        serverNext = TcpSeq.add(serverNext, bytes);
        client(PacketView.ACK, new byte[0]);
        return this;
    }

    public Conversation clientFin() {
        client(PacketView.FIN | PacketView.ACK, new byte[0]);
        clientNext = TcpSeq.add(clientNext, 1);
        return this;
    }

    public Conversation serverFin() {
        server(PacketView.FIN | PacketView.ACK, new byte[0]);
        serverNext = TcpSeq.add(serverNext, 1);
        return this;
    }

    /** The last ACK of a connection closed by both sides. */
    public Conversation clientAck() {
        client(PacketView.ACK, new byte[0]);
        return this;
    }

    public Conversation clientRst() {
        client(PacketView.RST | PacketView.ACK, new byte[0]);
        return this;
    }

    private void client(int flags, byte[] payload) {
        long ack = (flags & PacketView.SYN) != 0 && (flags & PacketView.ACK) == 0 ? 0 : serverNext;
        packets.add(new Packet(true, TestPackets.tcp(clientIp, clientPort, serverIp, serverPort, clientNext, ack,
                flags, payload), ts));
        ts += 5;
    }

    private void server(int flags, byte[] payload) {
        packets.add(new Packet(false, TestPackets.tcp(serverIp, serverPort, clientIp, clientPort, serverNext,
                clientNext, flags, payload), ts));
        ts += 5;
    }
}
