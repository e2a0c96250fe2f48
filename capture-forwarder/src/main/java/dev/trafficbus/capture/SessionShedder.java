package dev.trafficbus.capture;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;

import java.util.Arrays;

/**
 * Sheds whole sessions while the {@link CpuBudget} is over: a client SYN (SYN without ACK) seen then is not
 * forwarded and its flow is remembered, so every later packet of that connection is dropped too and no
 * connection is ever published in part. Sessions already forwarded go on. Flows leave the set a few seconds
 * after their FIN or RST, or after a minute without packets; a new client SYN of a shed flow's address pair
 * under budget starts a forwarded session. The set is bounded: a SYN that finds it full is forwarded and counted
 * ({@link #notShedSetFull}). Capture thread only, apart from the counters.
 */
final class SessionShedder {
    static final int MAX_FLOWS = 16384;
    private static final long IDLE_MICROS = 60_000_000L;
    private static final long CLOSED_MICROS = 5_000_000L;

    private final CpuBudget budget;
    // Made at the first shed session (384 KB a forwarder without a budget, or never over it, does not hold);
    // read only while size > 0.
    private byte[][] keys;
    private long[] expires;
    private final int mask = MAX_FLOWS * 2 - 1;
    private int size;
    private int sweep;
    private volatile long sessionsShed;
    private volatile long notShedSetFull;

    SessionShedder(CpuBudget budget) {
        this.budget = budget;
    }

    /** True when the packet belongs to a shed session (the caller drops and counts it as {@code cpu-budget}). */
    boolean shed(byte[] key, int tcpFlags, boolean clientToServer, long micros) {
        if (size == 0 && !budget.over()) {
            return false;
        }
        boolean clientSyn = clientToServer && (tcpFlags & (PacketView.SYN | PacketView.ACK)) == PacketView.SYN;
        int hash = FlowKey.hash(key);
        int slot = size == 0 ? -1 : find(key, hash);
        if (slot >= 0) {
            if (clientSyn && !budget.over()) {
                removeAt(slot); // the address pair's next connection, under budget: forwarded
                return false;
            }
            boolean closing = (tcpFlags & (PacketView.FIN | PacketView.RST)) != 0;
            expires[slot] = micros + (closing ? CLOSED_MICROS : IDLE_MICROS);
            return true;
        }
        expireOne(micros);
        if (!clientSyn || !budget.over()) {
            return false;
        }
        if (size >= MAX_FLOWS) {
            notShedSetFull++;
            return false;
        }
        insert(key, hash, micros + IDLE_MICROS);
        sessionsShed++;
        return true;
    }

    /** Sessions not started because the budget was over. */
    long sessionsShed() {
        return sessionsShed;
    }

    /** Sessions forwarded although the budget was over, because {@link #MAX_FLOWS} shed sessions were open. */
    long notShedSetFull() {
        return notShedSetFull;
    }

    /** Shed sessions still remembered. */
    int shedOpen() {
        return size;
    }

    /** Looks at one slot per packet, so expired flows leave the set without a pass over it. */
    private void expireOne(long micros) {
        if (size == 0) {
            return;
        }
        sweep = (sweep + 1) & mask;
        if (keys[sweep] != null && expires[sweep] < micros) {
            removeAt(sweep);
        }
    }

    private int find(byte[] key, int hash) {
        for (int i = hash & mask; keys[i] != null; i = (i + 1) & mask) {
            if (Arrays.equals(keys[i], key)) {
                return i;
            }
        }
        return -1;
    }

    private void insert(byte[] key, int hash, long expiry) {
        if (keys == null) {
            keys = new byte[MAX_FLOWS * 2][];
            expires = new long[MAX_FLOWS * 2];
        }
        int i = hash & mask;
        while (keys[i] != null) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        expires[i] = expiry;
        size++;
    }

    /** Linear probing without tombstones: entries after the hole move back when their home allows it. */
    private void removeAt(int slot) {
        int hole = slot;
        keys[hole] = null;
        for (int j = (hole + 1) & mask; keys[j] != null; j = (j + 1) & mask) {
            int home = FlowKey.hash(keys[j]) & mask;
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                keys[hole] = keys[j];
                expires[hole] = expires[j];
                keys[j] = null;
                hole = j;
            }
        }
        size--;
    }
}
