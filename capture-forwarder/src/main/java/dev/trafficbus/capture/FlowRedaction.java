package dev.trafficbus.capture;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.redact.PayloadRedactor;
import dev.trafficbus.redact.RedactionRules;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Masks secrets in each packet the forwarder accepts, in the frame itself, before it is encoded: the rules'
 * patterns in every payload, and header values in the payloads of HTTP/1 message heads. A payload that begins
 * with a request or status line is scanned; when the head goes on past the packet's end, the scan's state (a
 * {@code long}, no bytes) is kept for that direction of the connection with the sequence number the next
 * segment must have, so a header split across segments is masked. Nothing else of a stream is kept, so a head
 * that begins inside a segment which itself begins with body bytes (pipelining behind a body of several segments)
 * is not seen: that needs the message lengths, i.e. reassembly.
 * <p>
 * What cannot be checked is counted as {@code redaction-unchecked}, never passed silently: a head that needs a
 * carry when {@link #MAX_OPEN_HEADS} are open already, a segment of an open head that arrives neither in order
 * nor as a retransmission of the last one (scanned from a line start instead), a carry given up for a new head
 * at another sequence number or after {@link #IDLE_PACKETS} packets without its next segment. Not thread-safe:
 * one instance per capture loop; the counters may be read from any thread.
 */
final class FlowRedaction {
    /** Most connection directions with an unfinished head at once. */
    static final int MAX_OPEN_HEADS = 4096;
    /** Packets after which a carry whose next segment did not come may be given up for room. */
    static final long IDLE_PACKETS = 1L << 20;
    private static final int SLOTS = MAX_OPEN_HEADS * 2;
    private static final int KEY_LONGS = 5;

    private final PayloadRedactor redactor;
    private final boolean headers;
    private final boolean patterns;
    // The carries, open addressing with linear probing; a slot is free when used[slot] is false.
    private final long[] keys = new long[SLOTS * KEY_LONGS];
    private final boolean[] used = new boolean[SLOTS];
    private final long[] state = new long[SLOTS];
    private final long[] prevState = new long[SLOTS];
    private final int[] nextSeq = new int[SLOTS];
    private final int[] prevSeq = new int[SLOTS];
    private final long[] touched = new long[SLOTS];
    private final long[] probe = new long[KEY_LONGS];
    private int open;
    private long packets;
    private final AtomicLong unchecked = new AtomicLong();

    FlowRedaction(RedactionRules rules) {
        this.redactor = new PayloadRedactor(rules);
        this.headers = redactor.masksHeaders();
        this.patterns = redactor.masksPatterns();
    }

    /** No masking at all (--no-default-redaction and no rules). */
    boolean isEmpty() {
        return !headers && !patterns;
    }

    RedactionRules rules() {
        return redactor.rules();
    }

    /** Masks what the rules name in the TCP packet {@code view} is over (its array is changed in place). */
    void apply(PacketView view) {
        packets++;
        int len = view.payloadLength();
        byte[] a = view.array();
        if (len > 0) {
            if (patterns) {
                redactor.maskPatterns(a, view.tcpOffset(), view.payloadOffset(), len);
            }
            if (headers) {
                maskHeaders(view, a, len);
            }
        }
        if (open > 0 && (view.flags() & (PacketView.FIN | PacketView.RST)) != 0) {
            // The direction is done: a head left open is never continued, so nothing is left unchecked.
            keyOf(view, false);
            remove(find());
            if ((view.flags() & PacketView.RST) != 0) {
                keyOf(view, true);
                remove(find());
            }
        }
    }

    private void maskHeaders(PacketView view, byte[] a, int len) {
        int seq = (int) view.seq();
        int slot = -1;
        if (open > 0) {
            keyOf(view, false);
            slot = find();
        }
        boolean starts = PayloadRedactor.startsHttpMessage(a, view.payloadOffset(), len);
        long from;
        if (slot >= 0 && seq == nextSeq[slot]) {
            from = state[slot];
        } else if (slot >= 0 && seq == prevSeq[slot]) {
            // A retransmission of the last segment: the same bytes, masked the same way; the carry stays.
            redactor.maskHeaders(a, view.tcpOffset(), view.payloadOffset(), len, prevState[slot]);
            return;
        } else if (starts) {
            if (slot >= 0) {
                unchecked.incrementAndGet(); // the open head's next segment never came in order
                remove(slot);
                slot = -1;
            }
            from = PayloadRedactor.MESSAGE_START;
        } else if (slot >= 0) {
            // Out of order or after a gap: the state at this byte is unknown, so every line start is checked.
            unchecked.incrementAndGet();
            redactor.maskHeaders(a, view.tcpOffset(), view.payloadOffset(), len, 0L);
            return;
        } else {
            return; // not an HTTP/1 head: no header scanning
        }
        long after = redactor.maskHeaders(a, view.tcpOffset(), view.payloadOffset(), len, from);
        if (!PayloadRedactor.headOpen(after)) {
            if (slot >= 0) {
                remove(slot);
            }
            return;
        }
        if (slot < 0) {
            keyOf(view, false);
            slot = insert();
            if (slot < 0) {
                unchecked.incrementAndGet(); // no room: the rest of this head is not followed
                return;
            }
        }
        prevSeq[slot] = seq;
        prevState[slot] = from;
        nextSeq[slot] = seq + len;
        state[slot] = after;
        touched[slot] = packets;
    }

    /** Fields masked so far by rule {@code i} (numbered as in {@link RedactionRules#label(int)}). */
    long fields(int rule) {
        return redactor.fields(rule);
    }

    /** Fields masked per rule, by {@link RedactionRules#label(int)}, in rule order. */
    Map<String, Long> fieldsByRule() {
        Map<String, Long> out = new LinkedHashMap<>();
        RedactionRules rules = redactor.rules();
        for (int i = 0; i < rules.ruleCount(); i++) {
            out.put(rules.label(i), redactor.fields(i));
        }
        return out;
    }

    /** Fields masked by all rules. */
    long fieldsRedacted() {
        return redactor.totalFields();
    }

    /** Segments or heads that could not be checked completely (see the class comment). */
    long unchecked() {
        return unchecked.get();
    }

    /** Connection directions with an unfinished head now. */
    int openHeads() {
        return open;
    }

    /** Fills {@link #probe} with the key of the packet's direction ({@code reverse}: the other direction). */
    private void keyOf(PacketView view, boolean reverse) {
        byte[] a = view.array();
        int src = reverse ? view.dstAddressOffset() : view.srcAddressOffset();
        int dst = reverse ? view.srcAddressOffset() : view.dstAddressOffset();
        int n = view.addressLength();
        probe[0] = word(a, src, n, 0);
        probe[1] = n > 8 ? word(a, src, n, 8) : 0;
        probe[2] = word(a, dst, n, 0);
        probe[3] = n > 8 ? word(a, dst, n, 8) : 0;
        int sport = reverse ? view.dstPort() : view.srcPort();
        int dport = reverse ? view.srcPort() : view.dstPort();
        probe[4] = ((long) n << 32) | ((long) sport << 16) | dport;
    }

    /** Up to 8 bytes of an address from byte {@code from} on, as a number. */
    private static long word(byte[] a, int off, int n, int from) {
        long w = 0;
        for (int i = from; i < Math.min(n, from + 8); i++) {
            w = (w << 8) | (a[off + i] & 0xFF);
        }
        return w;
    }

    /** The home slot of the key at {@code k[base, base + KEY_LONGS)}. */
    private static int home(long[] k, int base) {
        long h = 0;
        for (int i = base; i < base + KEY_LONGS; i++) {
            h = (h ^ k[i]) * 0x9E3779B97F4A7C15L;
        }
        return (int) (h >>> 40) & (SLOTS - 1);
    }

    private boolean matches(int slot) {
        int base = slot * KEY_LONGS;
        for (int i = 0; i < KEY_LONGS; i++) {
            if (keys[base + i] != probe[i]) {
                return false;
            }
        }
        return true;
    }

    /** The slot holding {@link #probe}'s carry, or -1. */
    private int find() {
        for (int i = home(probe, 0); used[i]; i = (i + 1) & (SLOTS - 1)) {
            if (matches(i)) {
                return i;
            }
        }
        return -1;
    }

    /** A new slot for {@link #probe}, giving up idle carries when full; -1 when there is no room. */
    private int insert() {
        if (open >= MAX_OPEN_HEADS) {
            expireIdle();
            if (open >= MAX_OPEN_HEADS) {
                return -1;
            }
        }
        int i = home(probe, 0);
        while (used[i]) {
            i = (i + 1) & (SLOTS - 1);
        }
        System.arraycopy(probe, 0, keys, i * KEY_LONGS, KEY_LONGS);
        used[i] = true;
        open++;
        return i;
    }

    private void expireIdle() {
        for (int i = 0; i < SLOTS; i++) {
            while (used[i] && packets - touched[i] > IDLE_PACKETS) {
                unchecked.incrementAndGet(); // if its next segment still comes, it is not checked
                remove(i);
            }
        }
    }

    /** Frees {@code slot} (if not -1); later entries of its probe run move back where their home allows. */
    private void remove(int slot) {
        if (slot < 0) {
            return;
        }
        int mask = SLOTS - 1;
        int hole = slot;
        used[hole] = false;
        open--;
        for (int j = (hole + 1) & mask; used[j]; j = (j + 1) & mask) {
            int home = home(keys, j * KEY_LONGS);
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                move(j, hole);
                hole = j;
            }
        }
    }

    private void move(int from, int to) {
        System.arraycopy(keys, from * KEY_LONGS, keys, to * KEY_LONGS, KEY_LONGS);
        used[to] = true;
        used[from] = false;
        state[to] = state[from];
        prevState[to] = prevState[from];
        nextSeq[to] = nextSeq[from];
        prevSeq[to] = prevSeq[from];
        touched[to] = touched[from];
    }
}
