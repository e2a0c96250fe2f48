package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;

import java.util.Arrays;

/**
 * The packets of one capture record, scanned once: where each packet's encoded bytes lie in the value and the
 * few TCP facts the decisions need. Reused from record to record (arrays grow, never shrink), so the per-record
 * path allocates nothing.
 */
final class RecordPackets {
    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final PacketView view = new PacketView();
    private byte[] value;
    private int count;
    private int[] start = new int[8];
    private int[] end = new int[8];
    private PacketStatus[] status = new PacketStatus[8];
    private long[] seq = new long[8];
    private long[] micros = new long[8];
    private int[] flags = new int[8];
    private boolean[] clientToServer = new boolean[8];
    private int tcpCount;

    /** Scans {@code value}; throws {@link IllegalArgumentException} naming the fault when it does not decode. */
    void load(byte[] value) {
        reader.read(value);
        this.value = value;
        int n = reader.packetCount();
        if (n > start.length) {
            int size = Math.max(n, start.length * 2);
            start = Arrays.copyOf(start, size);
            end = Arrays.copyOf(end, size);
            status = Arrays.copyOf(status, size);
            seq = Arrays.copyOf(seq, size);
            micros = Arrays.copyOf(micros, size);
            flags = Arrays.copyOf(flags, size);
            clientToServer = Arrays.copyOf(clientToServer, size);
        }
        count = n;
        tcpCount = 0;
        int i = 0;
        do {
            start[i] = reader.packetStart();
            end[i] = reader.packetEnd();
            micros[i] = reader.timestampMicros();
            clientToServer[i] = reader.clientToServer();
            PacketStatus s = view.wrap(reader.packetArray(), reader.packetOffset(), reader.packetLength(),
                    Math.max(reader.originalLength(), reader.packetLength()));
            status[i] = s;
            if (s == PacketStatus.TCP) {
                seq[i] = view.seq();
                flags[i] = view.flags();
                tcpCount++;
            }
            i++;
        } while (reader.advance());
    }

    byte[] value() {
        return value;
    }

    /** Packets in the record. */
    int count() {
        return count;
    }

    /** Packets that are whole TCP segments (the others are dead-lettered). */
    int tcpCount() {
        return tcpCount;
    }

    PacketStatus status(int i) {
        return status[i];
    }

    boolean tcp(int i) {
        return status[i] == PacketStatus.TCP;
    }

    /** Where packet {@code i}'s encoded bytes start in {@link #value()}. */
    int start(int i) {
        return start[i];
    }

    /** Length of packet {@code i}'s encoded bytes. */
    int length(int i) {
        return end[i] - start[i];
    }

    long seq(int i) {
        return seq[i];
    }

    long micros(int i) {
        return micros[i];
    }

    boolean clientToServer(int i) {
        return clientToServer[i];
    }

    /** A SYN without ACK from the client: the start of a TCP connection. */
    boolean clientSyn(int i) {
        return clientToServer[i] && (flags[i] & PacketView.SYN) != 0 && (flags[i] & PacketView.ACK) == 0;
    }

    boolean finOrRst(int i) {
        return (flags[i] & (PacketView.FIN | PacketView.RST)) != 0;
    }
}
