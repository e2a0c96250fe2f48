package dev.trafficbus.capture.file;

import java.io.IOException;
import java.util.List;

/**
 * The records of a pcap file (libpcap's format): a 24-byte file header, then per packet a 16-byte header (seconds,
 * microseconds or nanoseconds, captured length, wire length) and the frame; either byte order, as the magic says.
 */
final class PcapRecords implements RecordFormat {
    static final int FILE_HEADER = 24;
    static final int RECORD_HEADER = 16;
    /** libpcap's own bound on a record (its largest snap length); a bigger one means a damaged header. */
    private static final int MAX_SNAPLEN = 262144;
    private static final int MAX_RECORD = 16 << 20;

    private final ByteInput in;
    private final boolean bigEndian;
    private final boolean nanos;
    private final CaptureInterface iface;
    private final int maxCaptured;

    /** {@code in} stands at the file header, which is complete. */
    PcapRecords(ByteInput in, boolean bigEndian, boolean nanos) {
        this.in = in;
        this.bigEndian = bigEndian;
        this.nanos = nanos;
        int snaplen = ByteInput.int32(in.buf, in.pos + 16, bigEndian);
        // The link type is the low 16 bits; the bits above carry the FCS length, which IP parsing does not need.
        int linkType = ByteInput.int32(in.buf, in.pos + 20, bigEndian) & 0xFFFF;
        this.iface = new CaptureInterface(0, linkType, snaplen, false, nanos ? 9 : 6, 0);
        this.maxCaptured = (int) Math.min(MAX_RECORD, Math.max(MAX_SNAPLEN, snaplen & 0xFFFFFFFFL));
        in.pos += FILE_HEADER;
    }

    @Override
    public boolean next(CapturedFrame frame) throws IOException, FormatProblem {
        if (!in.require(RECORD_HEADER)) {
            if (in.available() == 0 && !in.cutShort()) {
                return false;
            }
            throw FormatProblem.truncated(in.available() == 0 ? "its compressed data ends early"
                    : "it ends inside a record header");
        }
        byte[] b = in.buf;
        int p = in.pos;
        int seconds = ByteInput.int32(b, p, bigEndian);
        int fraction = ByteInput.int32(b, p + 4, bigEndian);
        long captured = ByteInput.uint32(b, p + 8, bigEndian);
        long wire = ByteInput.uint32(b, p + 12, bigEndian);
        if (captured > maxCaptured) {
            throw FormatProblem.damaged("the next record claims " + captured + " captured bytes, more than the file's"
                    + " snap length (" + iface.snaplen() + ") and any capture holds");
        }
        int length = (int) captured;
        if (!in.require(RECORD_HEADER + length)) {
            throw FormatProblem.truncated("it ends inside a packet");
        }
        b = in.buf;
        p = in.pos;
        System.arraycopy(b, p + RECORD_HEADER, frame.room(length), 0, length);
        in.pos = p + RECORD_HEADER + length;
        frame.capturedLength = length;
        frame.wireLength = (int) Math.min(Integer.MAX_VALUE, Math.max(wire, captured));
        frame.captureInterface = iface;
        frame.micros = micros(seconds, fraction);
        return true;
    }

    /** Seconds are signed (libpcap's time_t): before 1970 or a fraction past one second is a corrupt header. */
    private long micros(int seconds, int fraction) {
        if (seconds < 0 || fraction < 0 || fraction >= (nanos ? 1_000_000_000 : 1_000_000)) {
            return CapturedFrame.BAD_TIME;
        }
        return seconds * 1_000_000L + (nanos ? fraction / 1000 : fraction);
    }

    @Override
    public List<CaptureInterface> interfaces() {
        return List.of(iface);
    }

    @Override
    public String describe() {
        return "pcap (" + (nanos ? "nanosecond" : "microsecond") + " timestamps, "
                + (bigEndian ? "big" : "little") + "-endian)";
    }
}
