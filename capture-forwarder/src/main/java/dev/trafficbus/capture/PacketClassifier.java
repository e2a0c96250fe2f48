package dev.trafficbus.capture;

import dev.trafficbus.packet.Decapsulation;
import dev.trafficbus.packet.Encapsulation;
import dev.trafficbus.packet.LinkLayer;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;

import java.util.Set;

/**
 * Decides for one captured frame whether it is a TCP packet of a service (inside any tunnel
 * {@link Decapsulation} steps over), and in which direction it
 * travels, reusing one {@link PacketView}; masks the secrets of an accepted frame in place when given a
 * {@link FlowRedaction}, so nothing downstream sees them. Not thread-safe: one classifier per capture loop.
 */
public final class PacketClassifier {
    private final LinkLayer linkLayer;
    private final boolean[] servicePort = new boolean[65536];
    private final PacketView view = new PacketView();
    private final Decapsulation decapsulation = new Decapsulation();
    private final FlowRedaction redaction;
    private boolean clientToServer;

    /** For frames of several link layers: only {@link #classify(LinkLayer, byte[], int, int)} applies. */
    public PacketClassifier(Set<Integer> servicePorts) {
        this(null, servicePorts);
    }

    /** For frames of several link layers, masking accepted frames with {@code redaction} (null: none). */
    PacketClassifier(Set<Integer> servicePorts, FlowRedaction redaction) {
        this(null, servicePorts, redaction);
    }

    /** {@code servicePorts} must hold ports in 1..65535. */
    public PacketClassifier(LinkLayer linkLayer, Set<Integer> servicePorts) {
        this(linkLayer, servicePorts, null);
    }

    /** As {@link #PacketClassifier(LinkLayer, Set)}, masking accepted frames with {@code redaction} (null: none). */
    PacketClassifier(LinkLayer linkLayer, Set<Integer> servicePorts, FlowRedaction redaction) {
        this.linkLayer = linkLayer;
        this.redaction = redaction == null || redaction.isEmpty() ? null : redaction;
        for (int port : servicePorts) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is not in 1-65535");
            }
            servicePort[port] = true;
        }
    }

    /**
     * Looks at {@code frame[0, capturedLength)} whose length on the wire was {@code wireLength}. Returns
     * null when the frame is to be published (then read {@link #view()} and {@link #clientToServer()}),
     * else why not. A published frame is whole: {@code view().ipLength()} bytes of IP, padding excluded.
     */
    public SkipReason classify(byte[] frame, int capturedLength, int wireLength) {
        return classify(linkLayer, frame, capturedLength, wireLength);
    }

    /** As {@link #classify(byte[], int, int)} for a frame of another link layer (pcapng: one per interface). */
    public SkipReason classify(LinkLayer layer, byte[] frame, int capturedLength, int wireLength) {
        // The packet inside any tunnel (VXLAN, GRE, ...) is the one published, as if captured directly.
        int ip = decapsulation.innerIpOffset(layer, frame, capturedLength);
        if (ip == LinkLayer.NOT_IP) {
            return SkipReason.NOT_IP;
        }
        if (ip == LinkLayer.TRUNCATED) {
            return SkipReason.TRUNCATED;
        }
        PacketStatus status = view.wrap(frame, ip, capturedLength - ip, Math.max(0, wireLength - ip));
        switch (status) {
            case TCP:
                break;
            case NOT_IP:
                return SkipReason.NOT_IP;
            case NOT_TCP:
                return SkipReason.NOT_TCP;
            case FRAGMENT:
                return SkipReason.IP_FRAGMENT;
            case TRUNCATED:
                return SkipReason.TRUNCATED;
            default:
                return SkipReason.MALFORMED;
        }
        // When both ports are service ports the destination decides: the sender is then the client.
        if (servicePort[view.dstPort()]) {
            clientToServer = true;
        } else if (servicePort[view.srcPort()]) {
            clientToServer = false;
        } else {
            return SkipReason.NOT_PORT;
        }
        if (redaction != null) {
            redaction.apply(view);
        }
        return null;
    }

    /** What masks accepted frames, or null when nothing is masked. */
    FlowRedaction redaction() {
        return redaction;
    }

    /** The outermost tunnel the last accepted frame was read from inside, or null when it was not tunnelled. */
    public Encapsulation encapsulation() {
        return decapsulation.outermost();
    }

    /** The view over the last frame {@link #classify} accepted. */
    public PacketView view() {
        return view;
    }

    /** Direction of the last accepted frame: true when its destination port is a service port. */
    public boolean clientToServer() {
        return clientToServer;
    }
}
