package dev.trafficbus.session;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The byte stream one side of a TCP connection sent, rebuilt in order from captured segments. Positions
 * are kept as 64-bit stream offsets (0 = first byte) so 32-bit sequence wraparound never matters past
 * {@link #offsetOf}. Duplicates and overlaps are trimmed; segments that arrive early wait in a bounded
 * buffer. A hole that will not be filled is skipped only when the caller says so ({@link #fillGapsUpTo},
 * {@link #fillAllGaps}) or when the buffer overflows, and every skip is reported to the sink as a gap.
 */
public final class StreamReassembler {
    /** Receives the stream in order. */
    public interface Sink {
        /** Contiguous bytes at stream {@code offset}, from a segment captured at {@code tsMicros} carrying {@code ack}. */
        void bytes(long offset, byte[] b, int off, int len, long tsMicros, long ack);

        /** {@code length} bytes at {@code offset} are missing for good. */
        void gap(long offset, long length);
    }

    private static final class Early {
        final byte[] bytes;
        final long tsMicros;
        final long ack;

        Early(byte[] bytes, long tsMicros, long ack) {
            this.bytes = bytes;
            this.tsMicros = tsMicros;
            this.ack = ack;
        }
    }

    private final long maxBufferedBytes;
    /** Made at the first segment that comes early: most streams never have one. */
    private TreeMap<Long, Early> early;
    private boolean started;
    private long nextSeq;
    private long nextOffset;
    private long bufferedBytes;
    private long gaps;
    private long gapBytes;
    private long duplicateBytes;

    /** A reassembler that keeps at most {@code maxBufferedBytes} of early (out-of-order) data. */
    public StreamReassembler(long maxBufferedBytes) {
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /** Sets the sequence number of stream offset 0 (SYN seq + 1, or the first data seen); later calls are ignored. */
    public void start(long seq) {
        if (!started) {
            started = true;
            nextSeq = seq & 0xFFFF_FFFFL;
        }
    }

    /** True once offset 0 has been tied to a sequence number. */
    public boolean started() {
        return started;
    }

    /** Stream offset of the next byte not yet delivered. */
    public long nextOffset() {
        return nextOffset;
    }

    /** Stream offset of sequence number {@code seq} (negative before the start); valid only once started. */
    public long offsetOf(long seq) {
        return nextOffset + TcpSeq.diff(seq, nextSeq);
    }

    /** Bytes waiting behind a hole. */
    public long bufferedBytes() {
        return bufferedBytes;
    }

    /** True while early bytes wait behind a hole. */
    public boolean hasHole() {
        return early != null && !early.isEmpty();
    }

    /** Holes skipped so far. */
    public long gaps() {
        return gaps;
    }

    /** Bytes in the holes skipped so far. */
    public long gapBytes() {
        return gapBytes;
    }

    /** Bytes received more than once (retransmissions, overlaps), dropped. */
    public long duplicateBytes() {
        return duplicateBytes;
    }

    /** Takes one segment's payload {@code b[off, off+len)} starting at sequence number {@code seq}. */
    public void accept(long seq, byte[] b, int off, int len, long tsMicros, long ack, Sink sink) {
        if (len <= 0) {
            return;
        }
        start(seq);
        long start = offsetOf(seq);
        long end = start + len;
        if (end <= nextOffset) {
            duplicateBytes += len;
            return;
        }
        if (start <= nextOffset) {
            int skip = (int) (nextOffset - start);
            duplicateBytes += skip;
            deliver(b, off + skip, len - skip, tsMicros, ack, sink);
            drain(sink);
            return;
        }
        if (early == null) {
            early = new TreeMap<>();
        }
        Early previous = early.get(start);
        if (previous != null && previous.bytes.length >= len) {
            duplicateBytes += len;
            return;
        }
        early.put(start, new Early(Arrays.copyOfRange(b, off, off + len), tsMicros, ack));
        bufferedBytes += len - (previous == null ? 0 : previous.bytes.length);
        while (bufferedBytes > maxBufferedBytes && !early.isEmpty()) {
            // The buffer is full: the hole in front of it will not be waited for any longer.
            skipTo(early.firstKey(), sink);
            drain(sink);
        }
    }

    /** Declares every hole before stream offset {@code limit} lost, delivering what was buffered in between. */
    public void fillGapsUpTo(long limit, Sink sink) {
        while (started && nextOffset < limit) {
            Map.Entry<Long, Early> first = early == null ? null : early.firstEntry();
            skipTo(first == null ? limit : Math.min(first.getKey(), limit), sink);
            drain(sink);
        }
    }

    /** Declares every remaining hole lost and delivers all buffered bytes (end of the session). */
    public void fillAllGaps(Sink sink) {
        while (early != null && !early.isEmpty()) {
            skipTo(early.firstKey(), sink);
            drain(sink);
        }
    }

    private void skipTo(long offset, Sink sink) {
        long length = offset - nextOffset;
        if (length <= 0) {
            return;
        }
        gaps++;
        gapBytes += length;
        sink.gap(nextOffset, length);
        nextOffset = offset;
        nextSeq = TcpSeq.add(nextSeq, length);
    }

    private void drain(Sink sink) {
        if (early == null) {
            return;
        }
        Map.Entry<Long, Early> first;
        while ((first = early.firstEntry()) != null && first.getKey() <= nextOffset) {
            early.pollFirstEntry();
            Early e = first.getValue();
            bufferedBytes -= e.bytes.length;
            long end = first.getKey() + e.bytes.length;
            if (end <= nextOffset) {
                duplicateBytes += e.bytes.length;
                continue;
            }
            int skip = (int) (nextOffset - first.getKey());
            duplicateBytes += skip;
            deliver(e.bytes, skip, e.bytes.length - skip, e.tsMicros, e.ack, sink);
        }
    }

    private void deliver(byte[] b, int off, int len, long tsMicros, long ack, Sink sink) {
        long at = nextOffset;
        nextOffset += len;
        nextSeq = TcpSeq.add(nextSeq, len);
        sink.bytes(at, b, off, len, tsMicros, ack);
    }
}
