package dev.trafficbus.bus;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/** The {@link RecordHeaderNames#COPY} header's value: the amplification copy index as a 4-byte big-endian int. */
public final class CopyHeader {
    /** {@link #decode} result for a header that is not a non-negative 4-byte int. */
    public static final int MALFORMED = -1;

    private CopyHeader() {
    }

    /** The header value for copy {@code copy} (0-based). */
    public static byte[] encode(int copy) {
        return new byte[] {(byte) (copy >>> 24), (byte) (copy >>> 16), (byte) (copy >>> 8), (byte) copy};
    }

    /** The copy index carried by {@code headers}: 0 when there is no copy header, {@link #MALFORMED} when it is bad. */
    public static int decode(Headers headers) {
        Header h = headers.lastHeader(RecordHeaderNames.COPY);
        if (h == null) {
            return 0;
        }
        byte[] v = h.value();
        if (v == null || v.length != 4) {
            return MALFORMED;
        }
        int copy = ((v[0] & 0xff) << 24) | ((v[1] & 0xff) << 16) | ((v[2] & 0xff) << 8) | (v[3] & 0xff);
        return copy < 0 ? MALFORMED : copy;
    }
}
