package dev.trafficbus.replay;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups captured packets (in capture order) into capture records the way the forwarder does: consecutive
 * packets of one flow share a record, a client SYN starts a new one, a FIN or RST closes one, a record holds at
 * most {@code maxPackets} and is closed {@code windowMicros} of capture time after its first packet. Records come
 * out in publish order, which is close order, so their first-packet times are only roughly increasing.
 */
public final class CaptureBatcher {
    /** What the fixtures publish by default: a few packets per record, as a live forwarder would. */
    public static final int DEFAULT_MAX_PACKETS = 4;
    private static final long WINDOW_MICROS = 5_000;

    /** One captured IP packet. */
    public record Packet(long tsMicros, boolean clientToServer, byte[] ip) {
    }

    /** One record to publish: flow key, value, first packet's capture time, and how many packets it holds. */
    public record Record(byte[] key, byte[] value, long firstTsMicros, int packets) {
    }

    private CaptureBatcher() {
    }

    /** The records of {@code packets}, at most {@code maxPackets} each (1: one record per packet, in order). */
    public static List<Record> group(List<Packet> packets, int maxPackets) {
        List<Record> out = new ArrayList<>();
        Map<ByteBuffer, Open> open = new LinkedHashMap<>();
        PacketView v = new PacketView();
        long seq = 0;
        for (Packet p : packets) {
            Iterator<Open> it = open.values().iterator();
            while (it.hasNext()) {
                Open o = it.next();
                if (p.tsMicros() - o.firstTs >= WINDOW_MICROS) {
                    out.add(o.close());
                    it.remove();
                }
            }
            if (v.wrap(p.ip(), 0, p.ip().length, p.ip().length) != PacketStatus.TCP) {
                throw new IllegalArgumentException("fixture packets are TCP packets");
            }
            byte[] key = FlowKey.keyBytes(v, p.clientToServer());
            ByteBuffer k = ByteBuffer.wrap(key);
            boolean clientSyn = p.clientToServer() && v.hasFlag(PacketView.SYN) && !v.hasFlag(PacketView.ACK);
            Open o = open.get(k);
            if (o != null && clientSyn) {
                out.add(o.close());
                open.remove(k);
                o = null;
            }
            if (o == null) {
                o = new Open(key, p.tsMicros());
                open.put(k, o);
            }
            o.builder.add(CapturedPacketCodec.encodePacket(p.tsMicros(),
                    p.clientToServer() ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT,
                    p.ip(), 0, p.ip().length, p.ip().length, seq++));
            if (v.hasFlag(PacketView.FIN) || v.hasFlag(PacketView.RST) || o.builder.count() >= maxPackets) {
                out.add(o.close());
                open.remove(k);
            }
        }
        for (Open o : open.values()) {
            out.add(o.close());
        }
        return out;
    }

    /**
     * One record of exactly {@code packets}, cut where a test wants it (non-TCP packets allowed); the key is the
     * flow of the first TCP packet.
     */
    public static Record record(List<Packet> packets) {
        PacketView v = new PacketView();
        CapturedPacketCodec.Builder b = new CapturedPacketCodec.Builder();
        byte[] key = null;
        long seq = 0;
        for (Packet p : packets) {
            if (key == null && v.wrap(p.ip(), 0, p.ip().length, p.ip().length) == PacketStatus.TCP) {
                key = FlowKey.keyBytes(v, p.clientToServer());
            }
            b.add(CapturedPacketCodec.encodePacket(p.tsMicros(),
                    p.clientToServer() ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT,
                    p.ip(), 0, p.ip().length, p.ip().length, seq++));
        }
        if (key == null) {
            throw new IllegalArgumentException("a record needs a TCP packet for its key");
        }
        return new Record(key, b.build(), packets.get(0).tsMicros(), packets.size());
    }

    private static final class Open {
        final byte[] key;
        final long firstTs;
        final CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();

        Open(byte[] key, long firstTs) {
            this.key = key;
            this.firstTs = firstTs;
        }

        Record close() {
            int n = builder.count();
            return new Record(key, builder.build(), firstTs, n);
        }
    }
}
