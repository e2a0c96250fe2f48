package dev.trafficbus.export;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups captured packets into capture records the way a live forwarder does: per flow, a client SYN starts a new
 * record, a FIN or RST closes one, a record holds at most {@code maxPackets} and is published once it has been open
 * for {@code windowMicros}. Records come out in the order they close, so their timestamps (first packet) are not
 * strictly increasing, as on a real capture topic.
 */
final class CaptureBatches {
    /** One record: its key, its first and last packet's capture time (µs), its value and how many packets it holds. */
    record Batch(byte[] key, long firstMicros, long lastMicros, byte[] value, int packets) {
        long timestampMillis() {
            return Math.floorDiv(firstMicros, 1000L);
        }
    }

    private static final class Open {
        final byte[] key;
        final long firstMicros;
        long lastMicros;
        final CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();

        Open(byte[] key, long firstMicros) {
            this.key = key;
            this.firstMicros = firstMicros;
        }

        Batch close() {
            int n = builder.count();
            return new Batch(key, firstMicros, lastMicros, builder.build(), n);
        }
    }

    private CaptureBatches() {
    }

    /** The records of {@code frames} (TCP of {@code servicePort}, in capture-time order). */
    static List<Batch> group(List<PcapFiles.Frame> frames, int servicePort, int maxPackets, long windowMicros) {
        PacketView view = new PacketView();
        Map<FlowKey, Open> open = new LinkedHashMap<>();
        List<Batch> out = new ArrayList<>();
        long sequence = 0;
        for (PcapFiles.Frame f : frames) {
            for (Iterator<Open> it = open.values().iterator(); it.hasNext(); ) {
                Open o = it.next();
                if (f.micros() - o.firstMicros >= windowMicros) {
                    out.add(o.close());
                    it.remove();
                }
            }
            if (view.wrap(f.ip(), 0, f.ip().length, f.wireLength()) != PacketStatus.TCP) {
                throw new IllegalArgumentException("not a TCP packet at " + f.micros());
            }
            boolean c2s = view.dstPort() == servicePort;
            FlowKey flow = FlowKey.of(view, c2s);
            boolean clientSyn = c2s && view.hasFlag(PacketView.SYN) && !view.hasFlag(PacketView.ACK);
            Open o = open.get(flow);
            if (o != null && clientSyn) {
                out.add(o.close());
                o = null;
            }
            if (o == null) {
                o = new Open(FlowKey.keyBytes(view, c2s), f.micros());
                open.put(flow, o);
            }
            o.builder.add(CapturedPacketCodec.encodePacket(f.micros(),
                    c2s ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT, f.ip(), 0, f.ip().length,
                    f.wireLength(), sequence++));
            o.lastMicros = f.micros();
            if (view.hasFlag(PacketView.FIN) || view.hasFlag(PacketView.RST) || o.builder.count() >= maxPackets) {
                out.add(o.close());
                open.remove(flow);
            }
        }
        for (Open o : open.values()) {
            out.add(o.close());
        }
        return out;
    }
}
