package dev.trafficbus.subscription;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the processor remembers of one TCP session (one flow key) in the fault-tolerant session store: how it
 * started, whether it is closing, and each stateful subscription's decision. Encoded by hand: it is read for
 * every packet of a session that a stateful subscription watches.
 */
final class SessionState {
    static final byte PENDING = 0;
    static final byte KEEP = 1;
    static final byte DROP = 2;
    private static final byte VERSION = 1;

    /** Client initial sequence number when the session was seen from its SYN, else -1. */
    long startSeq;
    /** Wall-clock millis of the last write, for idle expiry. */
    long touchedMs;
    boolean closing;
    private String[] names;
    private byte[] decisions;
    private int size;

    SessionState(long startSeq, long touchedMs) {
        this.startSeq = startSeq;
        this.touchedMs = touchedMs;
        this.names = new String[2];
        this.decisions = new byte[2];
    }

    int indexOf(String name) {
        for (int i = 0; i < size; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    byte decision(int i) {
        return decisions[i];
    }

    String name(int i) {
        return names[i];
    }

    int size() {
        return size;
    }

    void set(int i, byte decision) {
        decisions[i] = decision;
    }

    int add(String name, byte decision) {
        if (size == names.length) {
            names = Arrays.copyOf(names, size * 2);
            decisions = Arrays.copyOf(decisions, size * 2);
        }
        names[size] = name;
        decisions[size] = decision;
        return size++;
    }

    boolean anyPending() {
        for (int i = 0; i < size; i++) {
            if (decisions[i] == PENDING) {
                return true;
            }
        }
        return false;
    }

    byte[] encode() {
        byte[][] raw = new byte[size][];
        int len = 1 + 8 + 8 + 1 + 4;
        for (int i = 0; i < size; i++) {
            raw[i] = names[i].getBytes(StandardCharsets.UTF_8);
            len += 2 + raw[i].length + 1;
        }
        ByteBuffer b = ByteBuffer.allocate(len);
        b.put(VERSION).putLong(startSeq).putLong(touchedMs).put((byte) (closing ? 1 : 0)).putInt(size);
        for (int i = 0; i < size; i++) {
            b.putShort((short) raw[i].length).put(raw[i]).put(decisions[i]);
        }
        return b.array();
    }

    static SessionState decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.get() != VERSION) {
            throw new IllegalStateException("session state of an unknown version");
        }
        SessionState s = new SessionState(b.getLong(), b.getLong());
        s.closing = b.get() != 0;
        int n = b.getInt();
        for (int i = 0; i < n; i++) {
            byte[] name = new byte[b.getShort()];
            b.get(name);
            s.add(new String(name, StandardCharsets.UTF_8), b.get());
        }
        return s;
    }
}
