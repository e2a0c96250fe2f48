package dev.trafficbus.capture;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Groups consecutive packets of one flow into one record value, so Kafka's per-record cost is shared by several
 * packets. A flow's open batch is emitted when a client SYN (SYN without ACK) arrives for it (the SYN opens the
 * next one, so a record never spans two connections), after an RST, at the packet bound, before the byte
 * bound would be passed, and once it is older than the window. A flow's batch is always emitted before its next
 * one opens, so per-flow order is kept. The clock is the caller's ({@link #advanceTo}): wall time for a live
 * capture, capture time for a file. Not thread-safe: one thread adds, advances and flushes.
 */
final class FlowBatcher {
    /** Receives each finished record, in the order batches close. */
    interface Sink {
        /**
         * {@code value} holds {@code packets} packets of the flow {@code key}; {@code firstMicros} is the first
         * packet's capture time; {@code pendingBytes} is the sum of what the packets were added with.
         */
        void emit(byte[] key, byte[] value, long firstMicros, int packets, long pendingBytes);
    }

    /** Default of --batch-window. */
    static final Duration DEFAULT_WINDOW = Duration.ofMillis(5);
    /** Default of --batch-max-packets. */
    static final int DEFAULT_MAX_PACKETS = 64;
    /** Largest --batch-max-packets. */
    static final int MAX_PACKETS_LIMIT = 100_000;
    /**
     * Largest --batch-window: a record is published up to that long after younger records of other flows, and
     * consumers allow 1 s for it (replay reads 1 s past a window's end, export reorders within 1 s by default).
     */
    static final Duration MAX_WINDOW = Duration.ofMillis(500);
    /** Bound on a record value: well under Kafka's default max.request.size of 1 MB. */
    static final int MAX_VALUE_BYTES = 256 * 1024;
    private static final int POOL_LIMIT = 1024;
    // Batches whose builder grew past this are left to the collector rather than kept in the pool.
    private static final int POOLED_VALUE_LIMIT = 16 * 1024;

    /**
     * One flow's open record, in the table while open. Reused once emitted: the FIFO entry then left behind no
     * longer matches its generation and is skipped.
     */
    private static final class Batch {
        final CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();
        byte[] key;
        int hash;
        long firstMicros;
        long openedAt;
        long pendingBytes;
        int largestValue;
        long generation;
        boolean open;
    }

    private final int maxPackets;
    private final int maxValueBytes;
    private final long windowMicros;
    private final Sink sink;
    // FIFO of (batch, generation) by open time, in parallel circular arrays.
    private Batch[] fifoBatch = new Batch[256];
    private long[] fifoGeneration = new long[256];
    private int fifoHead;
    private int fifoSize;
    private final ArrayDeque<Batch> pool = new ArrayDeque<>();
    private Batch[] table = new Batch[64];
    private int openCount;
    private long now;

    FlowBatcher(Duration window, int maxPackets, int maxValueBytes, Sink sink) {
        if (window.isNegative() || maxPackets < 1 || maxValueBytes < 16) {
            throw new IllegalArgumentException("window " + window + ", max packets " + maxPackets
                    + ", max bytes " + maxValueBytes);
        }
        this.windowMicros = window.toNanos() / 1000;
        this.maxPackets = maxPackets;
        this.maxValueBytes = maxValueBytes;
        this.sink = sink;
    }

    FlowBatcher(Duration window, int maxPackets, Sink sink) {
        this(window, maxPackets, MAX_VALUE_BYTES, sink);
    }

    /** The user-facing check of --batch-window and --batch-max-packets. */
    static void checkOptions(Duration window, int maxPackets) {
        if (window == null || window.isNegative()) {
            throw new UserInputException("--batch-window must not be negative");
        }
        if (window.compareTo(MAX_WINDOW) > 0) {
            throw new UserInputException("--batch-window " + window.toMillis() + "ms is too long; at most "
                    + MAX_WINDOW.toMillis() + "ms (consumers allow records of a window to come 1 s late)");
        }
        if (maxPackets < 1 || maxPackets > MAX_PACKETS_LIMIT) {
            throw new UserInputException("--batch-max-packets " + maxPackets + " is out of range; use 1-"
                    + MAX_PACKETS_LIMIT + " (1 = one packet per record)");
        }
    }

    /**
     * Adds one encoded packet ({@link CapturedPacketCodec#encodePacket}), {@code encodedPacket[0, packetLength)},
     * of the flow whose key is {@code key[0, keyLength)}; emits what this closes. Both are copied, so the caller
     * may reuse the arrays. {@code tcpFlags} are the packet's TCP flags; {@code pendingBytes} is handed back with
     * the batch.
     */
    void add(byte[] key, int keyLength, byte[] encodedPacket, int packetLength, int tcpFlags, long captureMicros,
             long pendingBytes) {
        int hash = FlowKey.hash(key, keyLength);
        int slot = find(key, keyLength, hash);
        Batch b = slot >= 0 ? table[slot] : null;
        boolean clientSyn = (tcpFlags & (PacketView.SYN | PacketView.ACK)) == PacketView.SYN;
        // +1: the packet count in front of the value may take one byte more.
        if (b != null && (clientSyn || b.builder.valueSize() + packetLength + 1 > maxValueBytes)) {
            emit(b, slot);
            b = null;
        }
        if (b == null) {
            // The one copy of the key a record keeps (it becomes the record's key).
            b = open(Arrays.copyOf(key, keyLength), hash, captureMicros);
        }
        b.builder.add(encodedPacket, 0, packetLength);
        b.pendingBytes += pendingBytes;
        // A FIN does not end the record: the peer's FIN and the last ACK follow within a round trip, and a short
        // connection in one record instead of two or three halves the per-record cost of Kafka (bench/p2-live.sh).
        if ((tcpFlags & PacketView.RST) != 0 || b.builder.count() >= maxPackets
                || windowMicros == 0 || b.builder.valueSize() >= maxValueBytes) {
            emit(b, slotOf(b));
        }
    }

    /** Moves the clock to {@code nowMicros} and emits the batches opened a window or more before. */
    void advanceTo(long nowMicros) {
        now = nowMicros;
        while (fifoSize > 0) {
            Batch head = fifoBatch[fifoHead];
            if (head.open && head.generation == fifoGeneration[fifoHead]) {
                if (nowMicros - head.openedAt < windowMicros) {
                    return;
                }
                emit(head, slotOf(head));
            }
            popHead();
        }
    }

    /** Emits every open batch, oldest first (at the end of a file, or when a live capture stops). */
    void flushAll() {
        while (fifoSize > 0) {
            Batch head = fifoBatch[fifoHead];
            boolean live = head.open && head.generation == fifoGeneration[fifoHead];
            popHead();
            if (live) {
                emit(head, slotOf(head));
            }
        }
    }

    /** Batches open now. */
    int openBatches() {
        return openCount;
    }

    private Batch open(byte[] key, int hash, long captureMicros) {
        Batch b = pool.pollFirst();
        if (b == null) {
            b = new Batch();
        }
        b.key = key;
        b.hash = hash;
        b.firstMicros = captureMicros;
        b.openedAt = now;
        b.pendingBytes = 0;
        b.generation++;
        b.open = true;
        if ((openCount + 1) * 2 > table.length) {
            grow();
        }
        insert(b);
        openCount++;
        push(b);
        return b;
    }

    private void push(Batch b) {
        if (fifoSize == fifoBatch.length) {
            Batch[] batches = new Batch[fifoSize * 2];
            long[] generations = new long[fifoSize * 2];
            for (int k = 0; k < fifoSize; k++) {
                int i = (fifoHead + k) % fifoSize;
                batches[k] = fifoBatch[i];
                generations[k] = fifoGeneration[i];
            }
            fifoBatch = batches;
            fifoGeneration = generations;
            fifoHead = 0;
        }
        int tail = (fifoHead + fifoSize) % fifoBatch.length;
        fifoBatch[tail] = b;
        fifoGeneration[tail] = b.generation;
        fifoSize++;
    }

    private void popHead() {
        fifoBatch[fifoHead] = null;
        fifoHead = (fifoHead + 1) % fifoBatch.length;
        fifoSize--;
    }

    private void emit(Batch b, int slot) {
        int packets = b.builder.count();
        b.largestValue = Math.max(b.largestValue, b.builder.valueSize());
        byte[] value = b.builder.build();
        b.open = false;
        removeAt(slot);
        openCount--;
        byte[] key = b.key;
        long pending = b.pendingBytes;
        long firstMicros = b.firstMicros;
        b.key = null;
        recycle(b);
        sink.emit(key, value, firstMicros, packets, pending);
    }

    private void recycle(Batch b) {
        if (pool.size() < POOL_LIMIT && b.largestValue <= POOLED_VALUE_LIMIT) {
            pool.addLast(b);
        }
    }

    /** The slot of {@code b}'s flow's open batch, or -1. */
    private int slotOf(Batch b) {
        return find(b.key, b.key.length, b.hash);
    }

    /** The slot of {@code key}'s open batch, or -1. */
    private int find(byte[] key, int keyLength, int hash) {
        int mask = table.length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            Batch e = table[i];
            if (e == null) {
                return -1;
            }
            if (e.hash == hash && Arrays.equals(e.key, 0, e.key.length, key, 0, keyLength)) {
                return i;
            }
        }
    }

    private void insert(Batch b) {
        int mask = table.length - 1;
        int i = b.hash & mask;
        while (table[i] != null) {
            i = (i + 1) & mask;
        }
        table[i] = b;
    }

    /** Linear probing without tombstones: entries after the hole move back when their home allows it. */
    private void removeAt(int slot) {
        int mask = table.length - 1;
        int hole = slot;
        table[hole] = null;
        for (int j = (hole + 1) & mask; table[j] != null; j = (j + 1) & mask) {
            int home = table[j].hash & mask;
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                table[hole] = table[j];
                table[j] = null;
                hole = j;
            }
        }
    }

    private void grow() {
        Batch[] old = table;
        table = new Batch[old.length * 2];
        for (Batch b : old) {
            if (b != null) {
                insert(b);
            }
        }
    }
}
