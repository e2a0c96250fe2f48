package dev.trafficbus.redact;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;

/**
 * Masks what a {@link RedactionRules} names in TCP payloads, in place, with {@code '*'} bytes of the same length
 * and the TCP checksum patched, so sequence numbers downstream stay valid. Works on the raw bytes: no String and
 * no object per packet. Patterns see one payload at a time; header values are found by a byte state machine whose
 * state a caller may carry from one packet of a connection to the next ({@link #maskHeaders}), so a header line
 * split across segments is still masked. Counts the fields masked per rule (readable from any thread). Not
 * thread-safe otherwise: one redactor per thread.
 */
public final class PayloadRedactor {
    /** Header state at the first byte of an HTTP/1 request or response. */
    public static final long MESSAGE_START = HeaderLines.MESSAGE_START;

    private final RedactionRules rules;
    private final HeaderTable table;
    private final Matcher[] matchers;
    private final Latin1Text text = new Latin1Text();
    private final AtomicLongArray fields;
    private final int headerRules;
    // The segment being masked, for the sink callbacks.
    private byte[] segment;
    private int tcpOffset;
    private int masked;
    private final Masks masks = new Masks();

    public PayloadRedactor(RedactionRules rules) {
        this.rules = rules;
        this.table = rules.table();
        this.headerRules = rules.headers().size();
        this.matchers = new Matcher[rules.patterns().size()];
        for (int i = 0; i < matchers.length; i++) {
            matchers[i] = rules.patterns().get(i).matcher("");
        }
        this.fields = new AtomicLongArray(Math.max(1, rules.ruleCount()));
    }

    public RedactionRules rules() {
        return rules;
    }

    /** True when the rules name headers, i.e. {@link #maskHeaders} has work to do. */
    public boolean masksHeaders() {
        return headerRules > 0;
    }

    /** True when the rules have patterns, i.e. {@link #maskPatterns} has work to do. */
    public boolean masksPatterns() {
        return matchers.length > 0;
    }

    /**
     * Masks payload {@code a[payloadOff, payloadOff+payloadLen)} of the TCP segment at {@code tcpOff}, the
     * packet on its own: patterns, then every header line in it. Returns the fields masked.
     */
    public int mask(byte[] a, int tcpOff, int payloadOff, int payloadLen) {
        int n = maskPatterns(a, tcpOff, payloadOff, payloadLen);
        if (headerRules > 0 && payloadLen > 0) {
            int before = masked;
            begin(a, tcpOff);
            HeaderLines.scan(table, a, payloadOff, payloadOff + payloadLen, HeaderLines.LINE, masks);
            n += masked - before;
        }
        return n;
    }

    /** Masks the matches of the patterns in the payload; returns the fields masked. */
    public int maskPatterns(byte[] a, int tcpOff, int payloadOff, int payloadLen) {
        if (matchers.length == 0 || payloadLen == 0) {
            return 0;
        }
        int n = 0;
        text.wrap(a, payloadOff, payloadLen);
        for (int r = 0; r < matchers.length; r++) {
            Matcher m = matchers[r].reset(text);
            while (m.find()) {
                int g = m.groupCount() >= 1 ? 1 : 0;
                int start = m.start(g);
                int end = m.end(g);
                if (start < 0 || end <= start) {
                    continue;
                }
                SegmentMask.fill(a, tcpOff, payloadOff + start, payloadOff + end);
                count(headerRules + r);
                n++;
            }
        }
        return n;
    }

    /**
     * Masks header values in the payload, going on from {@code state} (the value this returned for the previous
     * packet of the same direction of the connection, or {@link #MESSAGE_START}); returns the state after it.
     */
    public long maskHeaders(byte[] a, int tcpOff, int payloadOff, int payloadLen, long state) {
        if (headerRules == 0 || payloadLen == 0) {
            return state;
        }
        begin(a, tcpOff);
        return HeaderLines.scan(table, a, payloadOff, payloadOff + payloadLen, state, masks);
    }

    /** True when {@code state} is inside a message head: the next packet must be scanned from it. */
    public static boolean headOpen(long state) {
        return HeaderLines.headOpen(state);
    }

    /** True when the payload begins like an HTTP/1 request or status line. */
    public static boolean startsHttpMessage(byte[] a, int payloadOff, int payloadLen) {
        return HeaderLines.startsMessage(a, payloadOff, payloadOff + payloadLen);
    }

    /** Fields masked so far by rule {@code i} (numbered as in {@link RedactionRules#label(int)}). */
    public long fields(int rule) {
        return fields.get(rule);
    }

    /** Fields masked so far by all rules. */
    public long totalFields() {
        long sum = 0;
        for (int i = 0; i < rules.ruleCount(); i++) {
            sum += fields.get(i);
        }
        return sum;
    }

    private void begin(byte[] a, int tcpOff) {
        this.segment = a;
        this.tcpOffset = tcpOff;
    }

    private void count(int rule) {
        fields.lazySet(rule, fields.get(rule) + 1);
    }

    /** The header scan's callbacks: count the field, mask the bytes of the segment being scanned. */
    private final class Masks implements HeaderLines.Sink {
        @Override
        public void field(int rule) {
            count(rule);
            masked++;
        }

        @Override
        public void mask(int from, int to) {
            SegmentMask.fill(segment, tcpOffset, from, to);
        }
    }
}
