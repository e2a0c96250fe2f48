package dev.trafficbus.capture.file;

import dev.trafficbus.capture.file.CaptureFileException.Problem;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a pcap or pcapng capture without libpcap: both byte orders, microsecond and nanosecond pcap, pcapng with any
 * number of sections and interfaces (each its own link type, snap length and time resolution), gzip-compressed or not,
 * from a file or from standard input ({@code -}).
 * <p>
 * Gzip is recognised by its first bytes (1f 8b), whatever the file is called: {@code capture.pcap.gz}, a
 * gzip-compressed file without {@code .gz} and {@code gzip -c capture.pcap | ... --pcap -} all read the same.
 * <p>
 * {@link #next()} overwrites one {@link CapturedFrame}; nothing is allocated per packet. Not thread-safe.
 */
public final class CaptureFile implements AutoCloseable {
    /** The file name that means standard input. */
    public static final String STDIN = "-";

    private static final int GZIP_MAGIC = 0x8B1F;
    private static final int PCAP_MICROS = 0xA1B2C3D4;
    private static final int PCAP_NANOS = 0xA1B23C4D;
    private static final int PCAP_MODIFIED = 0xA1B2CD34;

    private final String name;
    private final InputStream stream;
    private final CountingStream raw;
    private final boolean compressed;
    private final ByteInput in;
    private final RecordFormat format;
    private final CapturedFrame frame = new CapturedFrame();
    private long packets;
    // The first packet is read at open, so the interfaces declared before it are known and checked there.
    private boolean primed;
    private FormatProblem pending;
    private boolean ended;

    private CaptureFile(String name, InputStream stream, CountingStream raw, boolean compressed, ByteInput in,
                        RecordFormat format) {
        this.name = name;
        this.stream = stream;
        this.raw = raw;
        this.compressed = compressed;
        this.in = in;
        this.format = format;
    }

    /**
     * Opens {@code path} ({@code -}: standard input), reads its header and its first packet. Throws
     * {@link CaptureFileException} when the file cannot be read as a capture, or when none of the interfaces declared
     * before its first packet has a link type that can be read.
     */
    public static CaptureFile open(Path path) {
        String name = path.toString();
        boolean stdin = STDIN.equals(name);
        InputStream source;
        try {
            if (!stdin && Files.isDirectory(path)) {
                throw new CaptureFileException(Problem.UNREADABLE, name + " is a directory, not a pcap file", 0);
            }
            source = stdin ? System.in : Files.newInputStream(path);
        } catch (NoSuchFileException e) {
            throw new CaptureFileException(Problem.UNREADABLE, name + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new CaptureFileException(Problem.UNREADABLE, name + ": permission denied", e);
        } catch (IOException e) {
            throw new CaptureFileException(Problem.UNREADABLE, "cannot read " + name + ": " + e.getMessage(), e);
        }
        String shown = stdin ? "standard input" : name;
        CountingStream raw = new CountingStream(source);
        InputStream stream = raw;
        try {
            PushbackInputStream peek = new PushbackInputStream(raw, 2);
            byte[] two = peek.readNBytes(2);
            peek.unread(two);
            boolean gzip = two.length == 2 && ((two[0] & 0xFF) | (two[1] & 0xFF) << 8) == GZIP_MAGIC;
            stream = gzip ? new GZIPInputStream(peek, 1 << 16) : peek;
            ByteInput in = new ByteInput(stream);
            CaptureFile file = new CaptureFile(shown, stream, raw, gzip, in, format(shown, gzip, in));
            file.prime();
            return file;
        } catch (ZipException e) {
            closeQuietly(stream);
            throw new CaptureFileException(Problem.DAMAGED, shown + " starts like a gzip file but its compressed data"
                    + " is damaged (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            closeQuietly(stream);
            String what = e instanceof java.io.EOFException ? " is a gzip file cut short inside its header" :
                    ": cannot read it (" + e.getMessage() + ")";
            throw new CaptureFileException(Problem.UNREADABLE, shown + what, e);
        } catch (RuntimeException e) {
            closeQuietly(stream);
            throw e;
        }
    }

    private static RecordFormat format(String name, boolean gzip, ByteInput in) throws IOException {
        String what = gzip ? name + " (gzip-compressed)" : name;
        if (!in.require(4)) {
            if (in.available() == 0) {
                throw new CaptureFileException(Problem.EMPTY, gzip ? what + " holds nothing: it is not a pcap or pcapng file"
                        : name + " is empty (0 bytes): it is not a pcap or pcapng file", 0);
            }
            throw new CaptureFileException(Problem.NOT_A_CAPTURE, what + " holds only " + in.available()
                    + " bytes: it is not a pcap or pcapng file", 0);
        }
        int magic = ByteInput.int32(in.buf, in.pos, false);
        boolean pcap = magic == PCAP_MICROS || magic == PCAP_NANOS
                || magic == Integer.reverseBytes(PCAP_MICROS) || magic == Integer.reverseBytes(PCAP_NANOS);
        if (pcap) {
            if (!in.require(PcapRecords.FILE_HEADER)) {
                throw new CaptureFileException(Problem.TRUNCATED, what + " is truncated inside its pcap file header ("
                        + in.available() + " of " + PcapRecords.FILE_HEADER + " bytes)", 0);
            }
            boolean bigEndian = magic == Integer.reverseBytes(PCAP_MICROS) || magic == Integer.reverseBytes(PCAP_NANOS);
            return new PcapRecords(in, bigEndian, magic == PCAP_NANOS || magic == Integer.reverseBytes(PCAP_NANOS));
        }
        if (magic == PcapngBlocks.SECTION_HEADER) {
            return new PcapngBlocks(in);
        }
        if (magic == PCAP_MODIFIED || magic == Integer.reverseBytes(PCAP_MODIFIED)) {
            throw new CaptureFileException(Problem.NOT_A_CAPTURE, what + " is a \"modified\" (Kuznetzov) pcap file, which"
                    + " trafficbus does not read; convert it with: editcap -F pcap " + name + " out.pcap", 0);
        }
        throw new CaptureFileException(Problem.NOT_A_CAPTURE, what + " is not a pcap file or a pcapng file: "
                + FileStart.describe(in.buf, in.pos, Math.min(in.available(), 8)), 0);
    }

    private void prime() throws IOException {
        try {
            primed = format.next(frame);
            ended = !primed;
        } catch (FormatProblem p) {
            pending = p;
            return;
        }
        List<CaptureInterface> declared = format.interfaces();
        if (!declared.isEmpty() && declared.stream().allMatch(i -> i.linkLayer() == null)) {
            StringBuilder types = new StringBuilder();
            declared.stream().map(CaptureInterface::describe).distinct()
                    .forEach(t -> types.append(types.length() == 0 ? "" : ", ").append(t));
            throw new CaptureFileException(Problem.LINK_TYPE, name + " has link type " + types + ", which forward cannot"
                    + " read; it reads Ethernet (with VLAN tags), Linux cooked v1/v2, BSD loopback, raw IP, PPP and NFLOG captures", 0);
        }
    }

    /**
     * Reads the next packet into {@link #frame()}; false at the end of the file. Throws {@link CaptureFileException}
     * ({@link Problem#TRUNCATED} or {@link Problem#DAMAGED}) where the file stops making sense; the packets before
     * it were read and remain valid.
     */
    public boolean next() {
        if (primed) {
            primed = false;
            packets++;
            return true;
        }
        if (pending != null) {
            throw problem(pending);
        }
        if (ended) {
            return false;
        }
        try {
            if (format.next(frame)) {
                packets++;
                return true;
            }
            ended = true;
            return false;
        } catch (FormatProblem p) {
            pending = p;
            throw problem(p);
        } catch (ZipException e) {
            pending = FormatProblem.damaged("its gzip data is damaged (" + e.getMessage() + ")");
            throw problem(pending);
        } catch (IOException e) {
            throw new CaptureFileException(Problem.UNREADABLE, "cannot read " + name + " after " + packets + " packets: "
                    + e.getMessage(), e);
        }
    }

    private CaptureFileException problem(FormatProblem p) {
        String verdict = p.problem == Problem.TRUNCATED ? " is truncated after " : " is damaged after ";
        return new CaptureFileException(p.problem, name + verdict + packets + " packets (" + p.getMessage() + ")", packets,
                p.getMessage());
    }

    /** The packet read last. */
    public CapturedFrame frame() {
        return frame;
    }

    /** Packets read so far. */
    public long packets() {
        return packets;
    }

    /** Bytes of the file (as stored, compressed or not) read so far: for progress against its size. */
    public long position() {
        return compressed ? raw.count : in.position();
    }

    /** The interfaces of the current section declared so far. */
    public List<CaptureInterface> interfaces() {
        return format.interfaces();
    }

    /** E.g. "pcapng, gzip-compressed". */
    public String describe() {
        return format.describe() + (compressed ? ", gzip-compressed" : "");
    }

    @Override
    public void close() {
        closeQuietly(stream);
    }

    private static void closeQuietly(InputStream s) {
        try {
            s.close();
        } catch (IOException e) {
            // Only read from: nothing is lost.
        }
    }

    /** Counts the bytes read from the file itself, before decompression. */
    private static final class CountingStream extends FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
