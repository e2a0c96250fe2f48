package dev.trafficbus.replay.conversation;

/**
 * Counts complete Redis RESP values in one direction of a connection, fed in whatever pieces the bytes
 * arrive: RESP2 (simple strings, errors, integers, bulk strings, arrays, nested) and RESP3 (null, boolean,
 * double, big number, bulk error, verbatim string, map, set, attribute, push). Bulk payloads are skipped by
 * length, not looked at. Top-level attributes and pushes are not answers to a command and are not counted.
 * Client streams may also hold inline commands (a line of words). Single-threaded; allocates nothing.
 */
final class RespReader {
    /** Told about each complete top-level value. */
    interface Owner {
        /** A top-level value (a command, or a reply) is complete; {@link #firstWord()} names a command. */
        void value(RespReader r);
    }

    private enum Mode { TYPE, NUMBER, LINE, BULK, BULK_END, INLINE, BROKEN }

    private static final int MAX_DEPTH = 32;

    private final Owner owner;
    private final long[] remaining = new long[MAX_DEPTH];
    private int depth;
    private Mode mode = Mode.TYPE;
    private byte type;
    private byte topType;
    private boolean negative;
    private boolean digits;
    private long number;
    private long bulkLeft;
    private final byte[] word = new byte[16];
    private int wordLen;
    private boolean capture;
    /** Elements of the current top-level aggregate: its first one is a command's name. */
    private long topCount;

    RespReader(Owner owner) {
        this.owner = owner;
    }

    /** The stream could not be read as RESP. */
    boolean broken() {
        return mode == Mode.BROKEN;
    }

    /** Between values: nothing of a next one seen yet. */
    boolean idle() {
        return mode == Mode.TYPE && depth == 0;
    }

    /** Upper-cased first word (at most 16 bytes) of the last complete command: its name. */
    String firstWord() {
        return new String(word, 0, wordLen, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** True when the last command's name is {@code upper} (given in capitals). */
    boolean firstWordIs(String upper) {
        if (wordLen != upper.length()) {
            return false;
        }
        for (int k = 0; k < wordLen; k++) {
            if (word[k] != upper.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Bytes of this direction, in order. */
    void feed(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            switch (mode) {
                case TYPE -> {
                    byte c = b[i++];
                    type = c;
                    if (depth == 0) {
                        topType = c;
                        wordLen = 0;
                    }
                    switch (c) {
                        case '*', '%', '~', '>', '|', '$', '!', '=', ':', '(' -> {
                            mode = Mode.NUMBER;
                            number = 0;
                            negative = false;
                            digits = false;
                        }
                        case '+', '-', '_', '#', ',' -> mode = Mode.LINE;
                        case '\r', '\n' -> {
                            if (depth > 0) {
                                mode = Mode.BROKEN;
                            }
                        }
                        default -> {
                            if (depth == 0 && c > ' ' && c < 127) {
                                mode = Mode.INLINE; // an inline command: words up to the end of the line
                                capture = true;
                                word(c);
                            } else {
                                mode = Mode.BROKEN;
                            }
                        }
                    }
                }
                case NUMBER -> i = number(b, i, end);
                case LINE -> {
                    while (i < end && b[i] != '\n') {
                        i++;
                    }
                    if (i < end) {
                        i++;
                        valueDone();
                    }
                }
                case INLINE -> {
                    while (i < end && b[i] != '\n') {
                        byte c = b[i++];
                        if (c == ' ' || c == '\r') {
                            capture = false;
                        } else if (capture) {
                            word(c);
                        }
                    }
                    if (i < end) {
                        i++;
                        valueDone();
                    }
                }
                case BULK -> {
                    int n = (int) Math.min(bulkLeft, end - i);
                    if (capture) {
                        for (int k = 0; k < n; k++) {
                            word(b[i + k]);
                        }
                    }
                    i += n;
                    bulkLeft -= n;
                    if (bulkLeft == 0) {
                        mode = Mode.BULK_END;
                        capture = false;
                    }
                }
                case BULK_END -> {
                    byte c = b[i++];
                    if (c == '\n') {
                        valueDone();
                    } else if (c != '\r') {
                        mode = Mode.BROKEN;
                    }
                }
                default -> i = end;
            }
        }
    }

    private int number(byte[] b, int i, int end) {
        while (i < end) {
            byte c = b[i++];
            if (c >= '0' && c <= '9' && number < (1L << 56)) {
                number = number * 10 + (c - '0');
                digits = true;
            } else if (c == '-' && !digits && !negative) {
                negative = true;
            } else if (c == '\r') {
                // the line ends at \n
            } else if (c == '\n') {
                numberDone(negative ? -number : number);
                return i;
            } else if (type == ':' || type == '(') {
                digits = true; // integers and big numbers: the value itself does not matter
            } else {
                mode = Mode.BROKEN;
                return end;
            }
        }
        return end;
    }

    private void numberDone(long n) {
        if (!digits) {
            mode = Mode.BROKEN;
            return;
        }
        switch (type) {
            case '$', '!', '=' -> {
                if (n < 0) {
                    valueDone(); // null bulk string
                } else {
                    bulkLeft = n;
                    capture = depth == 1 && topType == '*' && remaining[0] == topCount;
                    mode = n == 0 ? Mode.BULK_END : Mode.BULK;
                }
            }
            case '*', '%', '~', '>', '|' -> {
                long count = type == '%' || type == '|' ? 2 * n : n;
                if (count <= 0) {
                    valueDone(); // empty or null aggregate
                } else if (depth == MAX_DEPTH) {
                    mode = Mode.BROKEN;
                } else {
                    if (depth == 0) {
                        topCount = count;
                    }
                    remaining[depth++] = count;
                    mode = Mode.TYPE;
                }
            }
            default -> valueDone(); // ':' or '(' integer
        }
    }

    private void valueDone() {
        mode = Mode.TYPE;
        while (depth > 0) {
            if (--remaining[depth - 1] > 0) {
                return;
            }
            depth--;
        }
        if (topType != '>' && topType != '|') {
            owner.value(this);
        }
    }

    private void word(byte c) {
        if (wordLen < word.length) {
            word[wordLen++] = (byte) (c >= 'a' && c <= 'z' ? c - 32 : c);
        }
    }
}
