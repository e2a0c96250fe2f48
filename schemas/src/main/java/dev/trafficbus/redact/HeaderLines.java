package dev.trafficbus.redact;

/**
 * The state machine that finds the values of named HTTP/1 header lines in a byte stream, one byte at a time,
 * so that a scan can stop at the end of one packet and go on at the start of the next with nothing but a
 * {@code long} of state: no copy of the unfinished line is needed.
 * <p>
 * A line is {@code name [SP/HT]* ':' [SP/HT]* value} up to CR or LF; the value is masked. A line that begins
 * with SP or HT right after a masked value (an obsolete folded continuation) is masked too. Every line is a
 * candidate, also in bodies (masking look-alikes there is harmless). Independently the machine tracks whether a
 * message head is open (after a request or status line, until the blank line), which is what a caller must
 * carry to the next packet of the connection.
 */
final class HeaderLines {
    /** Receives the masks of one scan. */
    interface Sink {
        /** A value of header rule {@code rule} begins (counted once, also when it spans packets). */
        void field(int rule);

        /** {@code [from, to)} is value bytes. */
        void mask(int from, int to);
    }

    // Phases (bits 0-3).
    private static final int LINE_START = 0;
    private static final int NAME = 1;
    private static final int AFTER_NAME = 2;
    private static final int AFTER_COLON = 3;
    private static final int VALUE = 4;
    private static final int SKIP = 5;
    private static final long PHASE = 0xF;
    private static final long FOLDABLE = 1 << 4;
    private static final long HEAD_OPEN = 1 << 5;
    private static final int RULE_SHIFT = 8;
    private static final int POS_SHIFT = 16;
    private static final int CAND_SHIFT = 32;

    /** The state at the first byte of a message (a request or status line). */
    static final long MESSAGE_START = LINE_START | HEAD_OPEN;
    /** The state at a line start outside any known message: every line is still checked. */
    static final long LINE = LINE_START;

    private HeaderLines() {
    }

    /** True when {@code state} is inside a message head: the next packet must go on from it. */
    static boolean headOpen(long state) {
        return (state & HEAD_OPEN) != 0;
    }

    /**
     * True when {@code a[from, to)} begins like an HTTP/1 request line (a method of 3-20 upper-case letters, '-'
     * or '_', then a space; not the HTTP/2 preface "PRI ") or a status line ("HTTP/1.").
     */
    static boolean startsMessage(byte[] a, int from, int to) {
        if (to - from >= 7 && a[from] == 'H' && a[from + 1] == 'T' && a[from + 2] == 'T' && a[from + 3] == 'P'
                && a[from + 4] == '/' && a[from + 5] == '1' && a[from + 6] == '.') {
            return true;
        }
        int j = from;
        int end = Math.min(to, from + 21);
        while (j < end && ((a[j] >= 'A' && a[j] <= 'Z') || a[j] == '-' || a[j] == '_')) {
            j++;
        }
        if (j - from < 3 || j >= to || a[j] != ' ') {
            return false;
        }
        return !(j - from == 3 && a[from] == 'P' && a[from + 1] == 'R' && a[from + 2] == 'I');
    }

    /** Scans {@code a[from, to)} from {@code state}; reports values to {@code sink}; returns the state after. */
    static long scan(HeaderTable table, byte[] a, int from, int to, long state, Sink sink) {
        int phase = (int) (state & PHASE);
        boolean foldable = (state & FOLDABLE) != 0;
        boolean headOpen = (state & HEAD_OPEN) != 0;
        int rule = (int) (state >>> RULE_SHIFT) & 0xFF;
        int pos = (int) (state >>> POS_SHIFT) & 0xFFFF;
        int cand = (int) (state >>> CAND_SHIFT);
        int i = from;
        while (i < to) {
            int b = a[i] & 0xFF;
            switch (phase) {
                case SKIP -> {
                    while (i < to && a[i] != '\n') {
                        i++;
                    }
                    if (i < to) {
                        i++;
                        phase = LINE_START;
                    }
                }
                case LINE_START -> {
                    if (b == '\n' || b == '\r') {
                        headOpen = false; // the blank line ends a head
                        foldable = false;
                        phase = b == '\n' ? LINE_START : SKIP;
                        i++;
                    } else if (foldable && (b == ' ' || b == '\t')) {
                        phase = VALUE; // a folded continuation of the masked value
                    } else {
                        foldable = false;
                        if (!headOpen && startsMessage(a, i, to)) {
                            headOpen = true;
                            phase = SKIP;
                        } else {
                            cand = table.next(-1, 0, b);
                            pos = 1;
                            phase = cand == 0 ? SKIP : NAME;
                        }
                        i++;
                    }
                }
                case NAME -> {
                    if (b == ':' || b == ' ' || b == '\t') {
                        int done = table.complete(cand, pos);
                        if (done == 0) {
                            phase = SKIP;
                        } else {
                            rule = Integer.numberOfTrailingZeros(done);
                            phase = b == ':' ? AFTER_COLON : AFTER_NAME;
                        }
                    } else if (b == '\n') {
                        phase = LINE_START;
                    } else {
                        cand = table.next(cand, pos, b);
                        pos++;
                        phase = cand == 0 ? SKIP : NAME;
                    }
                    i++;
                }
                case AFTER_NAME -> {
                    phase = b == ' ' || b == '\t' ? AFTER_NAME : b == ':' ? AFTER_COLON : b == '\n' ? LINE_START : SKIP;
                    i++;
                }
                case AFTER_COLON -> {
                    if (b == ' ' || b == '\t') {
                        i++;
                    } else if (b == '\n' || b == '\r') {
                        phase = b == '\n' ? LINE_START : SKIP; // an empty value: nothing to mask
                        i++;
                    } else {
                        sink.field(rule);
                        phase = VALUE;
                    }
                }
                default -> { // VALUE
                    int start = i;
                    while (i < to && a[i] != '\r' && a[i] != '\n') {
                        i++;
                    }
                    if (i > start) {
                        sink.mask(start, i);
                    }
                    if (i < to) {
                        foldable = true;
                        phase = a[i] == '\n' ? LINE_START : SKIP;
                        i++;
                    }
                }
            }
        }
        return phase | (foldable ? FOLDABLE : 0) | (headOpen ? HEAD_OPEN : 0) | ((long) rule << RULE_SHIFT)
                | ((long) (pos & 0xFFFF) << POS_SHIFT) | ((long) cand << CAND_SHIFT);
    }
}
