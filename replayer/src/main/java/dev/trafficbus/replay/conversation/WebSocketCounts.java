package dev.trafficbus.replay.conversation;

import dev.trafficbus.metrics.MetricsEndpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The run's WebSocket frames by direction and opcode: those replayed to the target ({@code sent}, with fresh
 * masking keys) and those it answered ({@code received}). Updated from every engine thread; exported as
 * {@code websocket_frames{direction="sent",opcode="text"}} etc.
 */
public final class WebSocketCounts {
    /** Opcode names by value; reserved opcodes count as {@code other}. */
    private static final String[] NAMES = {"continuation", "text", "binary", "other", "close", "ping", "pong"};

    private final LongAdder[] sent = adders();
    private final LongAdder[] received = adders();
    private final LongAdder upgrades = new LongAdder();

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[NAMES.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** Index into {@link #NAMES} of an opcode. */
    private static int slot(int opcode) {
        return switch (opcode) {
            case 0, 1, 2 -> opcode;
            case 8 -> 4;
            case 9 -> 5;
            case 10 -> 6;
            default -> 3;
        };
    }

    /** A session switched to WebSocket (its upgrade was answered 101). */
    void upgraded() {
        upgrades.increment();
    }

    void sent(int opcode) {
        sent[slot(opcode)].increment();
    }

    void received(int opcode) {
        received[slot(opcode)].increment();
    }

    /** Frames with {@code opcode} ({@code text}, ...) sent (or received). */
    public long frames(boolean sentFrames, String opcode) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(opcode)) {
                return (sentFrames ? sent : received)[i].sum();
            }
        }
        throw new IllegalArgumentException("no opcode " + opcode);
    }

    /** Sessions that switched to WebSocket. */
    public long sessions() {
        return upgrades.sum();
    }

    /** Exports every count to {@code m}. */
    public void export(MetricsEndpoint m) {
        m.functionCounter("websocket_sessions", upgrades, LongAdder::sum);
        for (int i = 0; i < NAMES.length; i++) {
            m.functionCounter("websocket_frames", sent[i], LongAdder::sum, "direction", "sent", "opcode", NAMES[i]);
            m.functionCounter("websocket_frames", received[i], LongAdder::sum, "direction", "received", "opcode", NAMES[i]);
        }
    }

    /** {@code {sessions: n, sent: {text: n, ...}, received: {...}}} with the opcodes seen; empty without WebSocket. */
    public Map<String, Object> toReport() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (upgrades.sum() == 0) {
            return m;
        }
        m.put("sessions", upgrades.sum());
        m.put("sent", byOpcode(sent));
        m.put("received", byOpcode(received));
        return m;
    }

    private static Map<String, Long> byOpcode(LongAdder[] a) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            long n = a[i].sum();
            if (n > 0) {
                m.put(NAMES[i], n);
            }
        }
        return m;
    }
}
