package dev.trafficbus.capture.file;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A window over a stream that the record parsers read in place: {@link #require} makes the next {@code n} bytes
 * contiguous in {@link #buf} from {@link #pos}, refilling in big reads, so a record header or a whole packet block is
 * parsed where it lies, with no object per packet. Grows its buffer only for a block bigger than it.
 */
final class ByteInput {
    private static final int INITIAL = 1 << 20;
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);

    private final InputStream in;
    /** The bytes; valid from {@link #pos} to {@link #limit}. Replaced when it grows: read it after {@link #require}. */
    byte[] buf = new byte[INITIAL];
    int pos;
    int limit;
    private long dropped;
    private boolean eof;
    private boolean cutShort;

    ByteInput(InputStream in) {
        this.in = in;
    }

    /**
     * Makes {@code n} bytes available at {@code buf[pos]}; false when the stream ends first (the bytes there are then
     * all that is left). A compressed stream that ends inside its own framing counts as ended here ({@link #cutShort}).
     */
    boolean require(int n) throws IOException {
        if (limit - pos >= n) {
            return true;
        }
        if (n > buf.length) {
            byte[] bigger = new byte[Math.max(n, buf.length * 2)];
            System.arraycopy(buf, pos, bigger, 0, limit - pos);
            buf = bigger;
        } else {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
        }
        dropped += pos;
        limit -= pos;
        pos = 0;
        while (limit < n && !eof) {
            int r;
            try {
                r = in.read(buf, limit, buf.length - limit);
            } catch (EOFException e) {
                // GZIPInputStream's word for a file cut inside the compressed data.
                cutShort = true;
                r = -1;
            }
            if (r < 0) {
                eof = true;
            } else {
                limit += r;
            }
        }
        return limit - pos >= n;
    }

    /** Bytes available without reading more. */
    int available() {
        return limit - pos;
    }

    /** Steps over {@code n} bytes, reading through those not yet in the buffer; false when the stream ends first. */
    boolean skip(long n) throws IOException {
        long inBuffer = Math.min(n, limit - pos);
        pos += (int) inBuffer;
        long left = n - inBuffer;
        while (left > 0) {
            if (!require((int) Math.min(left, buf.length))) {
                pos = limit;
                return false;
            }
            int step = (int) Math.min(left, limit - pos);
            pos += step;
            left -= step;
        }
        return true;
    }

    /** True at the end of the stream with nothing left in the buffer. */
    boolean atEnd() throws IOException {
        return !require(1);
    }

    /** True when a compressed stream ended inside its framing: the file was cut, even at a record boundary. */
    boolean cutShort() {
        return cutShort;
    }

    /** Bytes consumed from the (decompressed) stream so far. */
    long position() {
        return dropped + pos;
    }

    /** The 32-bit integer at {@code b[p]} in the file's byte order. */
    static int int32(byte[] b, int p, boolean bigEndian) {
        return bigEndian ? (int) BE32.get(b, p) : (int) LE32.get(b, p);
    }

    /** The unsigned 32-bit integer at {@code b[p]}. */
    static long uint32(byte[] b, int p, boolean bigEndian) {
        return int32(b, p, bigEndian) & 0xFFFFFFFFL;
    }

    /** The unsigned 16-bit integer at {@code b[p]}. */
    static int uint16(byte[] b, int p, boolean bigEndian) {
        return (bigEndian ? (short) BE16.get(b, p) : (short) LE16.get(b, p)) & 0xFFFF;
    }
}
