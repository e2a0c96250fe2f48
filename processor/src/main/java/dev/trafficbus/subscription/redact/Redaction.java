package dev.trafficbus.subscription.redact;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks secrets in TCP payloads with {@code '*'} bytes of the same length, so sequence numbers downstream stay
 * valid, and patches the TCP checksum to match. Header rules mask the value of the named header lines; pattern
 * rules mask their first group when they have one, else the whole match. Each packet is searched on its own:
 * a secret split across two segments is not seen (documented limit).
 */
public final class Redaction {
    /** Masks nothing. */
    public static final Redaction NONE = new Redaction(List.of(), List.of());
    private static final byte MASK = '*';

    private final List<String> headers;
    private final List<Pattern> rules;

    /** Header names (case-insensitive) and byte patterns (on Latin-1 text, one char per byte). */
    public Redaction(List<String> headers, List<Pattern> patterns) {
        this.headers = List.copyOf(headers);
        List<Pattern> all = new ArrayList<>();
        if (!headers.isEmpty()) {
            StringBuilder names = new StringBuilder();
            for (String h : headers) {
                names.append(names.length() == 0 ? "" : "|").append(Pattern.quote(h));
            }
            all.add(Pattern.compile("(?im)^(?:" + names + ")[ \\t]*:[ \\t]*([^\\r\\n]*)"));
        }
        all.addAll(patterns);
        this.rules = List.copyOf(all);
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    public List<String> headers() {
        return headers;
    }

    /**
     * Masks the payload {@code a[payloadOff, payloadOff+payloadLen)} of the TCP segment at {@code tcpOff} in
     * {@code a} itself, checksum fixed; returns the number of fields masked. For arrays the caller owns.
     */
    public int maskInPlace(byte[] a, int tcpOff, int payloadOff, int payloadLen) {
        if (rules.isEmpty() || payloadLen == 0) {
            return 0;
        }
        String text = new String(a, payloadOff, payloadLen, StandardCharsets.ISO_8859_1);
        int masked = 0;
        for (Pattern rule : rules) {
            Matcher m = rule.matcher(text);
            while (m.find()) {
                int g = m.groupCount() >= 1 ? 1 : 0;
                int start = m.start(g);
                int end = m.end(g);
                if (start < 0 || end <= start) {
                    continue;
                }
                mask(a, tcpOff, payloadOff + start, payloadOff + end);
                masked++;
            }
        }
        return masked;
    }

    /** Overwrites {@code a[from, to)} with the mask byte and adjusts the TCP checksum (RFC 1624, incremental). */
    private static void mask(byte[] a, int tcpOff, int from, int to) {
        // Sum whole 16-bit words aligned to the TCP segment so the old and new sums cover the same words.
        int wordFrom = from - ((from - tcpOff) & 1);
        int wordTo = to + ((to - tcpOff) & 1);
        long oldSum = sum(a, wordFrom, wordTo);
        for (int i = from; i < to; i++) {
            a[i] = MASK;
        }
        long newSum = sum(a, wordFrom, wordTo);
        int csumOff = tcpOff + 16;
        int hc = ((a[csumOff] & 0xFF) << 8) | (a[csumOff + 1] & 0xFF);
        long s = (~hc & 0xFFFF) + (~oldSum & 0xFFFF) + newSum;
        s = (s & 0xFFFF) + (s >>> 16);
        s = (s & 0xFFFF) + (s >>> 16);
        int fixed = (int) (~s & 0xFFFF);
        a[csumOff] = (byte) (fixed >>> 8);
        a[csumOff + 1] = (byte) fixed;
    }

    /**
     * One's-complement sum of the words in [from, to). A word straddling the segment's end holds a byte that is
     * not part of the segment; it is the same in the old and new sums, so the difference is still exact.
     */
    private static long sum(byte[] a, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i += 2) {
            int hi = a[i] & 0xFF;
            int lo = i + 1 < a.length ? a[i + 1] & 0xFF : 0;
            s += (hi << 8) | lo;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return s;
    }
}
