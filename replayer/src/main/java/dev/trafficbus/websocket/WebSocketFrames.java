package dev.trafficbus.websocket;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Finds the frames of one direction of a WebSocket connection (RFC 6455 section 5.2), fed in whatever pieces the
 * bytes arrive: each frame's end is reported with its opcode, and whether the stream stands between messages (no
 * frame and no fragmented message unfinished). In re-mask mode (a client's stream being replayed) every masked
 * frame gets a fresh masking key, written over the captured one, and its payload is re-masked in place: a replayed
 * client must not reuse the keys it was captured with (section 10.3). Payloads are never copied or kept.
 * Single-threaded; allocates nothing while reading.
 */
public final class WebSocketFrames {
    /** Told the end of every frame. */
    public interface Listener {
        /** A whole frame with {@code opcode} (0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong) was read. */
        void frame(WebSocketFrames from, int opcode);
    }

    private final Listener listener;
    private final boolean remask;
    // The frame being read: header bytes seen, its first two bytes, the header's full size once known.
    private int headerSeen;
    private int headerSize = 2;
    private int b0;
    private long length;
    private long remaining;
    private boolean inPayload;
    private boolean masked;
    private final byte[] oldKey = new byte[4];
    private final byte[] newKey = new byte[4];
    private int maskIndex;
    private boolean fragmented;
    private boolean broken;
    private boolean frameJustEnded;

    /**
     * @param listener told every frame's end (may be null)
     * @param remask   give every masked frame a fresh key, re-masking its payload in the caller's array
     */
    public WebSocketFrames(Listener listener, boolean remask) {
        this.listener = listener;
        this.remask = remask;
    }

    /** Reads {@code b[off, off+len)} (re-masked in place in re-mask mode). */
    public void feed(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && !broken) {
            i += step(b, i, end);
        }
    }

    /**
     * Reads {@code b[off, off+len)} up to the end of the first frame that ends in it; returns the bytes read (len
     * when no frame ends there). {@link #frameEnded()} tells which.
     */
    public int feedToFrameEnd(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        frameJustEnded = false;
        while (i < end && !broken && !frameJustEnded) {
            i += step(b, i, end);
        }
        return i - off;
    }

    /** The last {@link #feedToFrameEnd} stopped at a frame's end. */
    public boolean frameEnded() {
        return frameJustEnded;
    }

    /** Between messages: no frame begun and no fragmented message unfinished. */
    public boolean betweenMessages() {
        return headerSeen == 0 && !inPayload && !fragmented;
    }

    /** The bytes are not WebSocket frames (a length no frame can have). */
    public boolean broken() {
        return broken;
    }

    /** Reads one header byte or a run of payload bytes; returns how many. */
    private int step(byte[] b, int i, int end) {
        if (inPayload) {
            int n = (int) Math.min(remaining, end - i);
            if (masked && remask) {
                for (int k = i; k < i + n; k++) {
                    int m = maskIndex++ & 3;
                    b[k] ^= (byte) (oldKey[m] ^ newKey[m]);
                }
            }
            remaining -= n;
            if (remaining == 0) {
                frameEnd();
            }
            return n;
        }
        int c = b[i] & 0xFF;
        int at = headerSeen++;
        if (at == 0) {
            b0 = c;
            length = 0;
        } else if (at == 1) {
            masked = (c & 0x80) != 0;
            int len7 = c & 0x7F;
            int ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
            length = ext == 0 ? len7 : 0;
            headerSize = 2 + ext + (masked ? 4 : 0);
            if (masked && remask) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                int key = r.nextInt();
                for (int k = 0; k < 4; k++) {
                    newKey[k] = (byte) (key >>> (8 * k));
                }
            }
        } else if (at < headerSize - (masked ? 4 : 0)) {
            length = (length << 8) | c;
            if (length < 0 || (at == 2 && headerSize - (masked ? 4 : 0) == 10 && (c & 0x80) != 0)) {
                broken = true; // the most significant bit of a 64-bit length must be 0
                return 1;
            }
        } else {
            int k = at - (headerSize - 4);
            oldKey[k] = (byte) c;
            if (remask) {
                b[i] = newKey[k];
            }
        }
        if (headerSeen == headerSize) {
            headerSeen = 0;
            maskIndex = 0;
            if (length == 0) {
                frameEnd();
            } else {
                inPayload = true;
                remaining = length;
            }
        }
        return 1;
    }

    private void frameEnd() {
        inPayload = false;
        headerSize = 2;
        frameJustEnded = true;
        int opcode = b0 & 0x0F;
        boolean fin = (b0 & 0x80) != 0;
        if (opcode < 8) {
            fragmented = !fin; // a data frame (or continuation) without FIN leaves its message open
        }
        if (listener != null) {
            listener.frame(this, opcode);
        }
    }

    /**
     * True when {@code b[off, off+len)} begins a server's answer that switches its connection to WebSocket: a
     * {@code 101} status line and an {@code Upgrade: websocket} header in the head.
     */
    public static boolean isUpgradeAnswer(byte[] b, int off, int len) {
        if (!startsWith(b, off, len, "HTTP/1.1 101") && !startsWith(b, off, len, "HTTP/1.0 101")) {
            return false;
        }
        int end = off + len;
        for (int i = off; i + 9 <= end; i++) {
            if (b[i] == '\r' && i + 3 < end && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return false; // the head ended without it
            }
            if ((b[i] | 0x20) == 'w' && regionIs(b, i, "websocket")) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(byte[] b, int off, int len, String s) {
        return len >= s.length() && regionIs(b, off, s);
    }

    private static boolean regionIs(byte[] b, int at, String lower) {
        if (at + lower.length() > b.length) {
            return false;
        }
        for (int k = 0; k < lower.length(); k++) {
            int c = b[at + k];
            if (c != lower.charAt(k) && (c | 0x20) != lower.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
