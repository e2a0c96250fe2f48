package dev.trafficbus.replay.tcp;

import java.util.Arrays;

/** The client bytes of a replayed connection from the oldest unacknowledged one on (sent or not yet sent). */
final class UnackedBytes {
    private byte[] buf = new byte[0];
    private int len;

    void append(byte[] b) {
        if (len + b.length > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(len + b.length, buf.length * 2));
        }
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    /** Forgets the first {@code n} bytes (acknowledged); returns how many were dropped. */
    int drop(int n) {
        int d = Math.min(n, len);
        if (d > 0) {
            System.arraycopy(buf, d, buf, 0, len - d);
            len -= d;
        }
        return d;
    }

    int length() {
        return len;
    }

    byte[] array() {
        return buf;
    }
}
