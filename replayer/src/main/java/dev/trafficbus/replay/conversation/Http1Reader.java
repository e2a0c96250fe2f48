package dev.trafficbus.replay.conversation;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * Finds where HTTP/1.x messages end in one direction of a connection, fed in whatever pieces the bytes
 * arrive: heads are scanned line by line (only a line's first bytes are kept), bodies are skipped by length or
 * by chunk without being looked at. What a head means for its body is decided by the {@link Owner}, which knows
 * the other direction (a response to HEAD has none).
 * <p>
 * The kept bytes live in buffers of the feeding thread, shared by every reader that thread feeds: a reader holds
 * a copy of its own only while a head it has begun waits for the rest of its bytes (rare: a head mostly comes in
 * one piece), so the many idle sessions of a large replay hold none. Single-threaded per reader; allocates nothing
 * while reading, except that copy.
 */
final class Http1Reader {
    /** Body framing an owner returns for a head: a length ≥ 0, or one of these. */
    static final long CHUNKED = -1;
    static final long UNTIL_CLOSE = -2;
    /** Interim head (1xx other than 101): no body, and no message end either. */
    static final long INTERIM = -3;
    /** The connection leaves HTTP after this head (101, CONNECT): what follows is another protocol. */
    static final long PASS = -4;

    /** Header facts, as bits of {@link #headerFlags()}. */
    static final int HAS_CONTENT_LENGTH = 1;
    static final int CHUNKED_CODING = 2;
    static final int OTHER_CODING = 4;
    static final int EXPECT_CONTINUE = 8;
    static final int UPGRADE = 16;
    static final int CONNECTION_CLOSE = 32;
    /** {@code Upgrade: h2c}: the client asks to switch to HTTP/2. */
    static final int UPGRADE_H2C = 64;
    /** {@code Upgrade: websocket}: the client asks to switch to WebSocket. */
    static final int UPGRADE_WEBSOCKET = 128;

    /** Told about each head and message end. */
    interface Owner {
        /** A head ended ({@code r}'s first-line and header fields are set); returns its body framing. */
        long head(Http1Reader r, long nowNanos);

        /** The message whose head came last is complete (not called for interim heads). */
        void end(Http1Reader r, long nowNanos);
    }

    private enum Mode { FIRST_LINE, HEADER, FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILER, UNTIL_CLOSE, PASS, BROKEN }

    private static final int MAX_HEAD = 64 * 1024;

    /** The line buffer of {@link #LINE_BYTES} and the first-line buffer, one pair per feeding thread. */
    private static final class Scratch {
        final byte[] line = new byte[LINE_BYTES];
        byte[] firstLine = new byte[64];
        /** Lent to a reader's feed now: a feed inside another feed on this thread makes its own. */
        boolean lent;
    }

    private static final int LINE_BYTES = 96;
    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    private final Owner owner;
    /** During a feed only: the thread's line buffer; null between feeds. */
    private byte[] line;
    /**
     * Between feeds, only while a head is in progress: its kept first-line bytes, then the kept bytes of the line
     * in progress; else null.
     */
    private byte[] held;
    private int lineLen;
    private int lineSeen;
    /** The line just ended was longer than the bytes kept of it. */
    private boolean lineCut;
    private int headSeen;
    private Mode mode = Mode.FIRST_LINE;
    private long remaining;
    private boolean chunkSizeDone;
    private boolean chunkDigits;

    // What the last head said.
    private int status;
    private int flags;
    private long contentLength;
    /** Where, in the bytes of the last {@link #feed}, the connection left HTTP/1.x (-1: it did not). */
    private int passedAt = -1;
    /** During a feed only: the thread's first-line buffer, at least {@link #keepFirstLine} long; else null. */
    private byte[] firstLine;
    private final int keepFirstLine;
    private int firstLineLen;

    /** {@code keepFirstLine}: bytes of each first line kept (the request target for reports). */
    Http1Reader(Owner owner, int keepFirstLine) {
        this.owner = owner;
        this.keepFirstLine = Math.max(16, keepFirstLine);
    }

    /** Bytes of this direction, in order. */
    void feed(byte[] b, int off, int len, long now) {
        Scratch s = SCRATCH.get();
        if (s.lent) {
            s = new Scratch();
        }
        s.lent = true;
        borrow(s);
        try {
            read(b, off, len, now);
        } finally {
            giveBack(s);
        }
    }

    /** Takes the thread's buffers for one feed, with what this reader kept of a head in progress. */
    private void borrow(Scratch s) {
        if (s.firstLine.length < keepFirstLine) {
            s.firstLine = new byte[keepFirstLine];
        }
        line = s.line;
        firstLine = s.firstLine;
        if (held != null) {
            System.arraycopy(held, 0, firstLine, 0, firstLineLen);
            System.arraycopy(held, firstLineLen, line, 0, lineLen);
            held = null;
        }
    }

    /** Returns the buffers; keeps a copy of what a head in progress needs from them in the next feed. */
    private void giveBack(Scratch s) {
        boolean headOpen = mode == Mode.HEADER || (mode == Mode.FIRST_LINE && lineSeen > 0);
        boolean lineOpen = lineSeen > 0 && (headOpen || mode == Mode.TRAILER || mode == Mode.CHUNK_SIZE
                || mode == Mode.CHUNK_END);
        int first = headOpen ? firstLineLen : 0;
        if (!headOpen) {
            firstLineLen = 0; // the head it belonged to was handled; nothing reads it any more
        }
        if (!lineOpen) {
            lineLen = 0;
        }
        if (first + lineLen > 0) {
            held = new byte[first + lineLen];
            System.arraycopy(firstLine, 0, held, 0, first);
            System.arraycopy(line, 0, held, first, lineLen);
        }
        line = null;
        firstLine = null;
        s.lent = false;
    }

    private void read(byte[] b, int off, int len, long now) {
        int i = off;
        int end = off + len;
        passedAt = -1;
        while (i < end) {
            switch (mode) {
                case FIRST_LINE, HEADER, TRAILER, CHUNK_SIZE, CHUNK_END -> {
                    i = scanLine(b, i, end, now);
                    if (mode == Mode.PASS) {
                        passedAt = i;
                        return;
                    }
                }
                case FIXED, CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, end - i);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        if (mode == Mode.FIXED) {
                            messageEnd(now);
                        } else {
                            mode = Mode.CHUNK_END;
                        }
                    }
                }
                default -> i = end; // UNTIL_CLOSE, PASS, BROKEN: nothing more to find
            }
        }
    }

    /** The connection closed: a message delimited by the close is complete. */
    void closed(long now) {
        if (mode == Mode.UNTIL_CLOSE) {
            messageEnd(now);
        }
    }

    /** The stream could not be read as HTTP/1.x. */
    boolean broken() {
        return mode == Mode.BROKEN;
    }

    /** The connection switched to another protocol (or a tunnel). */
    boolean passed() {
        return mode == Mode.PASS;
    }

    /** Index in the bytes of the last {@link #feed} where the other protocol starts, or -1. */
    int passedAt() {
        return passedAt;
    }

    /** Between messages: nothing of a next message seen yet. */
    boolean idle() {
        return mode == Mode.FIRST_LINE && lineSeen == 0;
    }

    /** The current message's body runs until the connection closes. */
    boolean untilClose() {
        return mode == Mode.UNTIL_CLOSE;
    }

    /** Status code of the last response head (0 for requests). */
    int status() {
        return status;
    }

    /** {@link #HAS_CONTENT_LENGTH}, ... of the last head. */
    int headerFlags() {
        return flags;
    }

    /** Content-Length of the last head (valid with {@link #HAS_CONTENT_LENGTH}). */
    long contentLength() {
        return contentLength;
    }

    /** The kept start of the first line of the head being handled (request or status line); in {@link Owner#head} only. */
    byte[] firstLine() {
        return firstLine;
    }

    int firstLineLength() {
        return firstLineLen;
    }

    /** True when the first line of the head being handled begins with {@code word} and a space; in {@link Owner#head} only. */
    boolean firstWordIs(String word) {
        int n = word.length();
        if (firstLineLen <= n || firstLine[n] != ' ') {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (firstLine[k] != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Reads up to the end of a line; a complete line is handled by the current mode. */
    private int scanLine(byte[] b, int i, int end, long now) {
        boolean head = mode == Mode.FIRST_LINE || mode == Mode.HEADER;
        if (mode == Mode.HEADER || mode == Mode.TRAILER || mode == Mode.CHUNK_END) {
            // No byte of these lines needs a look of its own: find the line's end, keep what fits in one copy.
            int nl = i;
            while (nl < end && b[nl] != '\n') {
                nl++;
            }
            int n = nl - i;
            if (head && (headSeen += n) > MAX_HEAD) {
                mode = Mode.BROKEN;
                return end;
            }
            int keep = Math.min(n, line.length - lineLen);
            System.arraycopy(b, i, line, lineLen, keep);
            lineLen += keep;
            lineSeen += n;
            if (nl == end) {
                return end;
            }
            i = nl; // the loop below ends the line
        }
        for (int j = i; j < end; j++) {
            byte c = b[j];
            if (c == '\n') {
                int n = lineLen;
                if (n > 0 && line[n - 1] == '\r' && lineSeen == n) {
                    n--;
                }
                boolean empty = lineSeen == 0 || (lineSeen == 1 && line[0] == '\r');
                lineCut = lineSeen > lineLen;
                lineLen = 0;
                lineSeen = 0;
                lineDone(n, empty, now);
                return j + 1;
            }
            if (mode == Mode.CHUNK_SIZE) {
                chunkSizeByte(c);
            } else if (mode == Mode.FIRST_LINE && lineSeen < keepFirstLine) {
                firstLine[lineSeen] = c;
                firstLineLen = lineSeen + 1;
            }
            if (lineLen < line.length) {
                line[lineLen++] = c;
            }
            lineSeen++;
            if (head && ++headSeen > MAX_HEAD) {
                mode = Mode.BROKEN;
                return end;
            }
            if (mode == Mode.FIRST_LINE && lineSeen == 1 && c != '\r' && (c < 'A' || c > 'Z')) {
                mode = Mode.BROKEN; // a request method or "HTTP/" starts with a capital letter
                return end;
            }
        }
        return end;
    }

    private void chunkSizeByte(byte c) {
        if (chunkSizeDone) {
            return; // an extension or trailing spaces after the size
        }
        int d = Character.digit(c, 16);
        if (d >= 0 && remaining < (1L << 56)) {
            remaining = remaining * 16 + d;
            chunkDigits = true;
        } else if (c == ';' || c == ' ' || c == '\t' || c == '\r') {
            chunkSizeDone = true;
        } else {
            mode = Mode.BROKEN;
        }
    }

    private void lineDone(int n, boolean empty, long now) {
        switch (mode) {
            case FIRST_LINE -> {
                if (empty) {
                    headSeen = 0; // blank lines between messages are tolerated (RFC 9112 2.2)
                    return;
                }
                status = 0;
                flags = 0;
                contentLength = 0;
                if (n >= 12 && startsWith(line, "HTTP/1.")) {
                    status = digit(line[9]) * 100 + digit(line[10]) * 10 + digit(line[11]);
                    if (status < 100 || status > 999) {
                        mode = Mode.BROKEN;
                        return;
                    }
                } else if (!looksLikeRequestLine(n)) {
                    mode = Mode.BROKEN;
                    return;
                }
                mode = Mode.HEADER;
            }
            case HEADER -> {
                if (empty) {
                    headSeen = 0;
                    body(owner.head(this, now), now);
                } else {
                    header(n);
                }
            }
            case CHUNK_SIZE -> {
                if (!chunkDigits) {
                    mode = Mode.BROKEN;
                } else if (remaining == 0) {
                    mode = Mode.TRAILER;
                } else {
                    mode = Mode.CHUNK_DATA;
                }
            }
            case CHUNK_END -> {
                if (!empty) {
                    mode = Mode.BROKEN;
                    return;
                }
                startChunk();
            }
            case TRAILER -> {
                if (empty) {
                    messageEnd(now);
                }
            }
            default -> {
            }
        }
    }

    private void body(long framing, long now) {
        if (framing == INTERIM) {
            mode = Mode.FIRST_LINE;
        } else if (framing == PASS) {
            mode = Mode.PASS;
        } else if (framing == UNTIL_CLOSE) {
            mode = Mode.UNTIL_CLOSE;
        } else if (framing == CHUNKED) {
            startChunk();
        } else if (framing > 0) {
            mode = Mode.FIXED;
            remaining = framing;
        } else {
            messageEnd(now);
        }
    }

    private void startChunk() {
        mode = Mode.CHUNK_SIZE;
        remaining = 0;
        chunkSizeDone = false;
        chunkDigits = false;
    }

    private void messageEnd(long now) {
        mode = Mode.FIRST_LINE;
        owner.end(this, now);
    }

    /** Method SP target SP "HTTP/1.x": enough of it is checked to tell HTTP from another protocol. */
    private boolean looksLikeRequestLine(int n) {
        int sp = 0;
        while (sp < n && line[sp] >= 'A' && line[sp] <= 'Z') {
            sp++;
        }
        return sp > 0 && sp < n && line[sp] == ' ' && (lineCut || endsWithVersion(n));
    }

    private boolean endsWithVersion(int n) {
        return n >= 9 && line[n - 9] == ' ' && line[n - 8] == 'H' && line[n - 7] == 'T' && line[n - 6] == 'T'
                && line[n - 5] == 'P' && line[n - 4] == '/' && line[n - 3] == '1' && line[n - 2] == '.';
    }

    private void header(int n) {
        int colon = 0;
        while (colon < n && line[colon] != ':') {
            colon++;
        }
        if (colon == n) {
            return; // not a header line we can use (or cut off past the kept bytes)
        }
        int v = colon + 1;
        while (v < n && (line[v] == ' ' || line[v] == '\t')) {
            v++;
        }
        int ve = n;
        while (ve > v && (line[ve - 1] == ' ' || line[ve - 1] == '\t')) {
            ve--;
        }
        if (nameIs(colon, "content-length")) {
            long cl = 0;
            int k = v;
            for (; k < ve && line[k] >= '0' && line[k] <= '9' && cl < (1L << 56); k++) {
                cl = cl * 10 + (line[k] - '0');
            }
            if (k == v) {
                mode = Mode.BROKEN;
                return;
            }
            contentLength = cl;
            flags |= HAS_CONTENT_LENGTH;
        } else if (nameIs(colon, "transfer-encoding")) {
            flags |= valueEndsWith(v, ve, "chunked") ? CHUNKED_CODING : OTHER_CODING;
            if (valueEndsWith(v, ve, "chunked")) {
                flags &= ~OTHER_CODING;
            }
        } else if (nameIs(colon, "expect")) {
            if (valueEndsWith(v, ve, "100-continue")) {
                flags |= EXPECT_CONTINUE;
            }
        } else if (nameIs(colon, "upgrade")) {
            flags |= UPGRADE;
            if (valueEndsWith(v, ve, "h2c")) {
                flags |= UPGRADE_H2C;
            }
            if (valueEndsWith(v, ve, "websocket")) {
                flags |= UPGRADE_WEBSOCKET;
            }
        } else if (nameIs(colon, "connection")) {
            if (valueEndsWith(v, ve, "close")) {
                flags |= CONNECTION_CLOSE;
            }
        }
    }

    private boolean nameIs(int len, String name) {
        if (len != name.length()) {
            return false;
        }
        for (int k = 0; k < len; k++) {
            if ((line[k] | 0x20) != name.charAt(k) && line[k] != name.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private boolean valueEndsWith(int v, int ve, String word) {
        int n = word.length();
        if (ve - v < n) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if ((line[ve - n + k] | 0x20) != (word.charAt(k) | 0x20)) {
                return false;
            }
        }
        return ve - v == n || line[ve - n - 1] == ' ' || line[ve - n - 1] == ',' || line[ve - n - 1] == '\t';
    }

    private static int digit(byte c) {
        return c >= '0' && c <= '9' ? c - '0' : -1000;
    }

    private static boolean startsWith(byte[] b, String s) {
        for (int k = 0; k < s.length(); k++) {
            if (b[k] != s.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
