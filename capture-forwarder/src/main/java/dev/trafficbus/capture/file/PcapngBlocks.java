package dev.trafficbus.capture.file;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The blocks of a pcapng file: sections (Section Header Block, whose byte-order magic sets the order of what follows),
 * interfaces (Interface Description Block: link type, snap length, {@code if_tsresol}, {@code if_tsoffset}), and
 * packets (Enhanced, Simple and the obsolete Packet Block). Every other block (name resolution, interface statistics,
 * custom, decryption secrets, ...) is stepped over by its length. A new section starts with no interfaces.
 */
final class PcapngBlocks implements RecordFormat {
    static final int SECTION_HEADER = 0x0A0D0D0A;
    private static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    private static final int INTERFACE = 1;
    private static final int OBSOLETE_PACKET = 2;
    private static final int SIMPLE_PACKET = 3;
    private static final int ENHANCED_PACKET = 6;
    private static final int OPTION_END = 0;
    private static final int IF_TSRESOL = 9;
    private static final int IF_TSOFFSET = 14;
    /** libpcap's bound on a block it reads; a bigger packet or interface block means a damaged length. */
    private static final int MAX_BLOCK = 16 << 20;

    private final ByteInput in;
    private final List<CaptureInterface> interfaces = new ArrayList<>();
    private boolean bigEndian;
    private int sections;
    private long lastMicros = CapturedFrame.BAD_TIME;

    /** {@code in} stands at the first Section Header Block. */
    PcapngBlocks(ByteInput in) {
        this.in = in;
    }

    @Override
    public boolean next(CapturedFrame frame) throws IOException, FormatProblem {
        while (true) {
            if (!in.require(8)) {
                if (in.available() == 0 && !in.cutShort()) {
                    return false;
                }
                throw FormatProblem.truncated(in.available() == 0 ? "its compressed data ends early"
                        : "it ends inside a block header");
            }
            int type = ByteInput.int32(in.buf, in.pos, bigEndian); // the section header's type reads the same either way
            if (type == SECTION_HEADER) {
                startSection();
                continue;
            }
            long length = ByteInput.uint32(in.buf, in.pos + 4, bigEndian);
            if (length < 12 || length % 4 != 0) {
                throw FormatProblem.damaged("a block of type " + hex(type) + " has the impossible length " + length);
            }
            if (type != INTERFACE && type != ENHANCED_PACKET && type != SIMPLE_PACKET && type != OBSOLETE_PACKET) {
                if (!in.skip(length)) {
                    throw FormatProblem.truncated("it ends inside a block of type " + hex(type));
                }
                continue;
            }
            int len = whole(type, length);
            boolean packet = type == INTERFACE ? addInterface(len) : packet(type, len, frame);
            in.pos += len;
            if (packet) {
                return true;
            }
        }
    }

    /** Makes the block of {@code length} bytes contiguous and checks its trailing copy of the length. */
    private int whole(int type, long length) throws IOException, FormatProblem {
        if (length > MAX_BLOCK) {
            throw FormatProblem.damaged("a block of type " + hex(type) + " claims " + length + " bytes");
        }
        int len = (int) length;
        if (!in.require(len)) {
            throw FormatProblem.truncated("it ends inside a " + (type == INTERFACE ? "interface" : "packet") + " block");
        }
        if (ByteInput.uint32(in.buf, in.pos + len - 4, bigEndian) != length) {
            throw FormatProblem.damaged("a block of type " + hex(type) + " ends with a length other than its own");
        }
        return len;
    }

    private void startSection() throws IOException, FormatProblem {
        if (!in.require(12)) {
            throw FormatProblem.truncated("it ends inside a section header");
        }
        int magic = ByteInput.int32(in.buf, in.pos + 8, false);
        if (magic == BYTE_ORDER_MAGIC) {
            bigEndian = false;
        } else if (magic == Integer.reverseBytes(BYTE_ORDER_MAGIC)) {
            bigEndian = true;
        } else {
            throw FormatProblem.damaged("a section header has the byte-order magic " + hex(magic)
                    + " instead of 1a2b3c4d");
        }
        long length = ByteInput.uint32(in.buf, in.pos + 4, bigEndian);
        if (length < 28 || length % 4 != 0) {
            throw FormatProblem.damaged("a section header has the impossible length " + length);
        }
        whole(SECTION_HEADER, length);
        in.pos += (int) length;
        interfaces.clear();
        sections++;
    }

    private boolean addInterface(int len) {
        byte[] b = in.buf;
        int p = in.pos;
        int linkType = ByteInput.uint16(b, p + 8, bigEndian);
        int snaplen = ByteInput.int32(b, p + 12, bigEndian);
        boolean binary = false;
        int exponent = 6;
        long offsetSeconds = 0;
        int q = p + 16;
        int end = p + len - 4;
        while (q + 4 <= end) {
            int code = ByteInput.uint16(b, q, bigEndian);
            int size = ByteInput.uint16(b, q + 2, bigEndian);
            if (code == OPTION_END || q + 4 + size > end) {
                break;
            }
            if (code == IF_TSRESOL && size >= 1) {
                // High bit clear: units of 10^-n s; set: units of 2^-n s.
                binary = (b[q + 4] & 0x80) != 0;
                exponent = Math.min(63, b[q + 4] & 0x7F);
            } else if (code == IF_TSOFFSET && size == 8) {
                long high = ByteInput.uint32(b, q + 4 + (bigEndian ? 0 : 4), bigEndian);
                long low = ByteInput.uint32(b, q + 4 + (bigEndian ? 4 : 0), bigEndian);
                offsetSeconds = high << 32 | low;
            }
            q += 4 + ((size + 3) & ~3);
        }
        interfaces.add(new CaptureInterface(interfaces.size(), linkType, snaplen, binary, exponent, offsetSeconds));
        return false;
    }

    private boolean packet(int type, int len, CapturedFrame frame) throws FormatProblem {
        byte[] b = in.buf;
        int p = in.pos;
        int id;
        long captured;
        long wire;
        int data;
        long micros;
        CaptureInterface iface;
        if (type == SIMPLE_PACKET) {
            // No interface id and no time: interface 0, and the time of the packet before it (none: a bad time).
            wire = ByteInput.uint32(b, p + 8, bigEndian);
            iface = iface(0);
            data = p + 12;
            captured = Math.min(wire, len - 16L);
            if (iface.snaplen() > 0) {
                captured = Math.min(captured, iface.snaplen());
            }
            micros = lastMicros;
        } else {
            id = type == ENHANCED_PACKET ? ByteInput.int32(b, p + 8, bigEndian) : ByteInput.uint16(b, p + 8, bigEndian);
            iface = iface(id);
            long units = ByteInput.uint32(b, p + 12, bigEndian) << 32 | ByteInput.uint32(b, p + 16, bigEndian);
            captured = ByteInput.uint32(b, p + 20, bigEndian);
            wire = ByteInput.uint32(b, p + 24, bigEndian);
            data = p + 28;
            if (captured > len - 32L) {
                throw FormatProblem.damaged("a packet block of " + len + " bytes claims " + captured + " captured bytes");
            }
            micros = iface.micros(units);
            lastMicros = micros;
        }
        int length = (int) captured;
        System.arraycopy(b, data, frame.room(length), 0, length);
        frame.capturedLength = length;
        frame.wireLength = (int) Math.min(Integer.MAX_VALUE, Math.max(wire, captured));
        frame.captureInterface = iface;
        frame.micros = micros;
        return true;
    }

    private CaptureInterface iface(int id) throws FormatProblem {
        if (id < 0 || id >= interfaces.size()) {
            throw FormatProblem.damaged("a packet names interface " + (id & 0xFFFFFFFFL) + ", but section " + sections
                    + " declares " + interfaces.size() + " before it");
        }
        return interfaces.get(id);
    }

    @Override
    public List<CaptureInterface> interfaces() {
        return Collections.unmodifiableList(interfaces);
    }

    @Override
    public String describe() {
        return "pcapng";
    }

    private static String hex(int v) {
        return String.format("%08x", v);
    }
}
