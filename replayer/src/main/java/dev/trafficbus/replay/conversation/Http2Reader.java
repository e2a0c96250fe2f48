package dev.trafficbus.replay.conversation;

/**
 * Finds HTTP/2 frames (RFC 9113 section 4) in one direction of a connection, fed in whatever pieces the bytes
 * arrive; the client's direction starts with the 24-byte connection preface. Payloads are skipped, except the
 * first bytes of the small control frames the {@link Owner} reads (SETTINGS, WINDOW_UPDATE, RST_STREAM,
 * GOAWAY), kept in one buffer made once. Single-threaded; allocates nothing while reading.
 */
public final class Http2Reader {
    /** Frame types and flags (RFC 9113 section 6). */
    public static final int DATA = 0;
    public static final int HEADERS = 1;
    public static final int RST_STREAM = 3;
    public static final int SETTINGS = 4;
    public static final int GOAWAY = 7;
    public static final int WINDOW_UPDATE = 8;
    public static final int CONTINUATION = 9;
    public static final int FLAG_END_STREAM = 0x1;
    public static final int FLAG_ACK = 0x1;
    public static final int FLAG_END_HEADERS = 0x4;
    public static final int FLAG_PADDED = 0x8;
    public static final int FLAG_PRIORITY = 0x20;
    /** The largest frame every peer must accept (SETTINGS_MAX_FRAME_SIZE's initial value). */
    public static final int MIN_MAX_FRAME = 16_384;

    /** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": the client's first bytes. */
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    public static final int PREFACE_LENGTH = 24;

    /** Told about each complete frame. */
    interface Owner {
        /** A frame ended: {@link #type()}, {@link #flags()}, {@link #stream()}, {@link #length()} are its own. */
        void frame(Http2Reader r);
    }

    private static final int KEEP = 64;
    /** A header block larger than this is not decoded (a request's names are in the first few hundred bytes). */
    private static final int MAX_HEADER_BLOCK = 256 * 1024;

    private final Owner owner;
    private int prefaceSeen;
    private final byte[] head = new byte[9];
    private int headLen;
    private int remaining;
    private final byte[] payload = new byte[KEEP];
    private int kept;
    private boolean broken;
    /**
     * The HEADERS frame and CONTINUATION frames of the header block being read, as they came (frame heads
     * included), or null when the owner does not read header blocks; {@code blockLen} -1: larger than kept.
     */
    private byte[] block;
    private int blockLen;
    // The frame being read.
    private int length;
    private int type;
    private int flags;
    private int stream;

    /** {@code preface}: the direction starts with the connection preface. */
    Http2Reader(Owner owner, boolean preface) {
        this.owner = owner;
        this.prefaceSeen = preface ? 0 : PREFACE.length;
    }

    /** Keeps each header block from now on, for {@link #headerBlock()}. */
    void keepHeaderBlocks() {
        if (block == null) {
            block = new byte[512];
        }
    }

    /**
     * The HEADERS and CONTINUATION frames of the header block that just ended (in {@link Owner#frame} of a frame
     * with END_HEADERS), frame heads included; {@link #headerBlockLength()} bytes of it, -1 when too large.
     */
    byte[] headerBlock() {
        return block;
    }

    int headerBlockLength() {
        return blockLen;
    }

    private boolean inHeaderBlock() {
        return block != null && (type == HEADERS || type == CONTINUATION);
    }

    private void keepBlock(byte[] b, int off, int len) {
        if (blockLen < 0) {
            return;
        }
        if (blockLen + len > block.length) {
            if (blockLen + len > MAX_HEADER_BLOCK) {
                blockLen = -1;
                return;
            }
            block = java.util.Arrays.copyOf(block, Math.min(MAX_HEADER_BLOCK, Math.max(block.length * 2, blockLen + len)));
        }
        System.arraycopy(b, off, block, blockLen, len);
        blockLen += len;
    }

    /** True when {@code b[off, off+len)} starts like the connection preface (as far as it goes, at least 4 bytes). */
    public static boolean startsWithPreface(byte[] b, int off, int len) {
        int n = Math.min(len, PREFACE.length);
        if (n < 4) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (b[off + k] != PREFACE[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when {@code b[off, off+len)} is one or more whole HTTP/2 frames and nothing else, each of a known type
     * on a stream its type allows: a connection captured without its start (no preface) still shows as HTTP/2.
     */
    public static boolean framesExactly(byte[] b, int off, int len) {
        int at = off;
        int end = off + len;
        int frames = 0;
        while (end - at >= 9) {
            int n = ((b[at] & 0xFF) << 16) | ((b[at + 1] & 0xFF) << 8) | (b[at + 2] & 0xFF);
            int t = b[at + 3] & 0xFF;
            int id = ((b[at + 5] & 0xFF) << 24) | ((b[at + 6] & 0xFF) << 16) | ((b[at + 7] & 0xFF) << 8) | (b[at + 8] & 0xFF);
            boolean connection = t == SETTINGS || t == 6 || t == GOAWAY;
            boolean onStream = t == DATA || t == HEADERS || t == 2 || t == RST_STREAM || t == CONTINUATION;
            if (id < 0 || t > CONTINUATION || (connection && id != 0) || (onStream && id == 0)
                    || n > end - at - 9) {
                return false;
            }
            at += 9 + n;
            frames++;
        }
        return frames > 0 && at == end;
    }

    /** The bytes could not be read as HTTP/2 (no preface, or a server talking HTTP/1.x). */
    boolean broken() {
        return broken;
    }

    int type() {
        return type;
    }

    int flags() {
        return flags;
    }

    int stream() {
        return stream;
    }

    int length() {
        return length;
    }

    /** Big-endian 31-bit value at {@code at} of the kept payload (0 when the payload is shorter). */
    int int31(int at) {
        if (at + 4 > kept) {
            return 0;
        }
        return ((payload[at] & 0x7F) << 24) | ((payload[at + 1] & 0xFF) << 16) | ((payload[at + 2] & 0xFF) << 8)
                | (payload[at + 3] & 0xFF);
    }

    /** Bytes of the payload kept (at most 64). */
    int kept() {
        return kept;
    }

    /** The 16-bit value at {@code at} of the kept payload. */
    int uint16(int at) {
        return at + 2 > kept ? 0 : ((payload[at] & 0xFF) << 8) | (payload[at + 1] & 0xFF);
    }

    /** Bytes of this direction, in order. */
    void feed(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && !broken) {
            if (prefaceSeen < PREFACE.length) {
                if (b[i++] != PREFACE[prefaceSeen++]) {
                    broken = true;
                }
            } else if (headLen < 9) {
                head[headLen++] = b[i++];
                if (headLen == 9) {
                    startFrame();
                }
            } else {
                int n = Math.min(remaining, end - i);
                int keep = Math.min(n, KEEP - kept);
                if (keep > 0) {
                    System.arraycopy(b, i, payload, kept, keep);
                    kept += keep;
                }
                if (inHeaderBlock()) {
                    keepBlock(b, i, n);
                }
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    endFrame();
                }
            }
        }
    }

    private void startFrame() {
        length = ((head[0] & 0xFF) << 16) | ((head[1] & 0xFF) << 8) | (head[2] & 0xFF);
        type = head[3] & 0xFF;
        flags = head[4] & 0xFF;
        stream = ((head[5] & 0x7F) << 24) | ((head[6] & 0xFF) << 16) | ((head[7] & 0xFF) << 8) | (head[8] & 0xFF);
        kept = 0;
        remaining = length;
        // "HTTP/1.1 400" read as a frame header is type 'P' (0x50): no frame type is defined that high, and a
        // server that answers with HTTP/1.x never speaks HTTP/2 on this connection.
        if (head[0] == 'H' && head[1] == 'T' && head[2] == 'T' && head[3] == 'P') {
            broken = true;
            return;
        }
        if (inHeaderBlock()) {
            if (type == HEADERS) {
                blockLen = 0;
            }
            keepBlock(head, 0, 9);
        }
        if (remaining == 0) {
            endFrame();
        }
    }

    /**
     * The header block fragment of {@code raw[0, len)}, a HEADERS frame and its CONTINUATION frames as they came,
     * without the HEADERS frame's padding and priority fields, appended to {@code into}.
     */
    public static void fragmentOf(byte[] raw, int len, io.netty.buffer.ByteBuf into) {
        for (int at = 0; at + 9 <= len; ) {
            int n = ((raw[at] & 0xFF) << 16) | ((raw[at + 1] & 0xFF) << 8) | (raw[at + 2] & 0xFF);
            int start = at + 9;
            int end = Math.min(len, start + n);
            if (raw[at + 3] == HEADERS) {
                int f = raw[at + 4] & 0xFF;
                if ((f & FLAG_PADDED) != 0 && n > 0) {
                    end -= raw[start] & 0xFF;
                    start++;
                }
                if ((f & FLAG_PRIORITY) != 0) {
                    start += 5;
                }
            }
            if (end > start) {
                into.writeBytes(raw, start, end - start);
            }
            at += 9 + n;
        }
    }

    private void endFrame() {
        headLen = 0;
        owner.frame(this);
    }
}
