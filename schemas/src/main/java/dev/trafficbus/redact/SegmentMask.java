package dev.trafficbus.redact;

/**
 * Overwrites bytes of a TCP segment's payload with {@code '*'} and patches the TCP checksum to match, so the
 * segment keeps its length (sequence numbers downstream stay valid) and stays valid for a receiver.
 */
final class SegmentMask {
    static final byte MASK = '*';

    private SegmentMask() {
    }

    /** Masks {@code a[from, to)} of the segment whose TCP header starts at {@code tcpOff} (RFC 1624, incremental). */
    static void fill(byte[] a, int tcpOff, int from, int to) {
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
