package dev.trafficbus.capture.live;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.pcap4j.core.PcapHandle;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads a live libpcap handle in bulk: one native call ({@code pcap_dispatch}) hands libpcap's own {@code pcap_dump}
 * up to {@link #packetsPerRead} packets, which it writes as pcap records into a native memory stream
 * ({@code fmemopen}); Java then walks that memory. A Java callback per packet through JNA costs about 1.7 µs,
 * which alone is many times what tcpdump spends per packet; this way the per-packet native work is tcpdump's own
 * and the crossing into Java is paid once per read. The memory holds {@code packetsPerRead} packets of the full
 * snap length, so libpcap can never write past it; packets it counted that still do not come out are reported to the
 * sink, never hidden.
 * One thread reads; {@link PcapHandle#breakLoop} from another ends the next read.
 */
public final class BulkPacketReader implements AutoCloseable {
    /** Receives each frame of a read, in capture order. */
    public interface FrameSink {
        /** {@code frame[0, capturedLength)} is the frame, {@code wireLength} its length on the wire. */
        void frame(byte[] frame, int capturedLength, int wireLength, long micros);

        /** {@code count} packets libpcap delivered could not be read out of the memory (expected never). */
        void unreadable(int count);
    }

    /** {@link #read} result when {@code breakLoop} ended the read. */
    public static final int BROKEN = -2;
    /** {@link #read} result when libpcap failed; {@link #error} says why. */
    public static final int FAILED = -1;

    private static final int FILE_HEADER = 24;
    private static final int RECORD_HEADER = 16;
    private static final long MEMORY_BUDGET = 8L << 20;
    private static final int SEEK_SET = 0;
    private static final int IOFBF = 0;
    private static final long STDIO_BUFFER = 64 * 1024;
    /** Longest wait for packets in one {@link #read}: an idle capture comes back to its caller this often. */
    public static final int IDLE_WAIT_MILLIS = 250;
    private static final short POLLIN = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SO_ATTACH_FILTER = 26;

    private final Pointer pcap;
    private final Memory memory;
    private final ByteBuffer records;
    private final Pointer stream;
    private final Pointer dumper;
    private final Memory pollFd;
    private final int packetsPerRead;
    private final byte[] frame;
    private int readFrom = FILE_HEADER;
    private String error;
    private boolean closed;

    /** A reader of {@code handle} (open, live, not read by anyone else) for frames of at most {@code snaplen} bytes. */
    public BulkPacketReader(PcapHandle handle, int snaplen) {
        this.pcap = nativeHandle(handle);
        this.packetsPerRead = (int) Math.max(16, Math.min(1024, MEMORY_BUDGET / (RECORD_HEADER + snaplen)));
        long size = FILE_HEADER + (long) packetsPerRead * (RECORD_HEADER + snaplen) + 4096;
        this.memory = new Memory(size);
        this.records = memory.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
        this.frame = new byte[snaplen];
        this.stream = LibC.fmemopen(memory, size, "w");
        if (stream == null) {
            throw new IllegalStateException("fmemopen failed (errno " + Native.getLastError() + ")");
        }
        // Fully buffered, flushed once per read: an unbuffered stream costs a trip through stdio per write.
        LibC.setvbuf(stream, null, IOFBF, STDIO_BUFFER);
        this.dumper = LibPcap.pcap_dump_fopen(pcap, stream);
        if (dumper == null) {
            LibC.fclose(stream);
            throw new IllegalStateException("pcap_dump_fopen failed: " + LibPcap.pcap_geterr(pcap));
        }
        Memory errbuf = new Memory(256);
        if (LibPcap.pcap_setnonblock(pcap, 1, errbuf) != 0) {
            LibPcap.pcap_dump_close(dumper);
            throw new IllegalStateException("pcap_setnonblock failed: " + errbuf.getString(0));
        }
        this.pollFd = new Memory(8); // struct pollfd { int fd; short events; short revents; }
        pollFd.setInt(0, LibPcap.pcap_get_selectable_fd(pcap));
        pollFd.setShort(4, POLLIN);
        pollFd.setShort(6, (short) 0);
    }

    /**
     * Hands each packet libpcap has ready to {@code sink}, or, with none ready, waits up to {@link #IDLE_WAIT_MILLIS}
     * for some; returns how many came (0 after a wait), {@link #BROKEN} or {@link #FAILED}. The handle does not wait
     * itself (libpcap's own wait on a TPACKET_V3 ring lasts until a packet comes, however long), so an idle capture
     * still comes back to its caller a few times a second.
     */
    public int read(FrameSink sink) {
        return read(sink, IDLE_WAIT_MILLIS);
    }

    /** {@link #read(FrameSink)} waiting at most {@code waitMillis} when no packet is ready. */
    public int read(FrameSink sink, int waitMillis) {
        int n = LibPcap.pcap_dispatch(pcap, packetsPerRead, LibPcap.DUMP, dumper);
        if (n == 0) {
            LibC.poll(pollFd, 1, waitMillis);
            return 0;
        }
        LibC.fflush(stream);
        long end = LibC.ftell(stream);
        int walked = walk(sink, (int) end);
        LibC.fseek(stream, 0, SEEK_SET);
        readFrom = 0;
        if (n == FAILED) {
            error = LibPcap.pcap_geterr(pcap);
            return FAILED;
        }
        if (n > walked) {
            sink.unreadable(n - walked);
        }
        return n == BROKEN ? BROKEN : Math.max(0, n);
    }

    private int walk(FrameSink sink, int end) {
        int p = readFrom;
        int count = 0;
        while (p + RECORD_HEADER <= end) {
            long seconds = records.getInt(p) & 0xFFFFFFFFL;
            int micros = records.getInt(p + 4);
            int captured = records.getInt(p + 8);
            int wire = records.getInt(p + 12);
            p += RECORD_HEADER;
            if (captured < 0 || captured > frame.length || p + captured > end) {
                break; // cannot happen with libpcap's own writer; counted through the mismatch
            }
            records.get(p, frame, 0, captured);
            p += captured;
            count++;
            sink.frame(frame, captured, wire, seconds * 1_000_000L + micros);
        }
        return count;
    }

    /**
     * Makes the handle take no more packets, keeping those its ring holds: a kernel filter that accepts nothing, set
     * on the socket itself (libpcap's own pcap_setfilter would apply it to the packets already in the ring too). For
     * a handle being replaced, read to its end.
     */
    public void stopIntake() {
        int fd = LibPcap.pcap_fileno(pcap);
        Memory reject = new Memory(8); // struct sock_filter { BPF_RET | BPF_K, 0, 0, 0 }: accept 0 bytes
        reject.clear();
        reject.setShort(0, (short) 0x06);
        Memory program = new Memory(16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
        program.clear();
        program.setShort(0, (short) 1);
        program.setPointer(8, reject);
        if (LibC.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, program, 16) != 0) {
            throw new IllegalStateException("setsockopt(SO_ATTACH_FILTER) failed (errno " + Native.getLastError() + ")");
        }
    }

    /** libpcap's message after {@link #FAILED}. */
    public String error() {
        return error;
    }

    /** Most packets one read hands over. */
    public int packetsPerRead() {
        return packetsPerRead;
    }

    /** Closes the memory stream (not the handle). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibPcap.pcap_dump_close(dumper); // also closes the stream
        }
    }

    /** The {@code pcap_t*} inside pcap4j's handle, which pcap4j 1.8.2 keeps in a private field. */
    private static Pointer nativeHandle(PcapHandle handle) {
        try {
            Field f = PcapHandle.class.getDeclaredField("handle");
            f.setAccessible(true);
            return (Pointer) f.get(handle);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot reach the native handle of pcap4j's PcapHandle (pcap4j 1.8.2 expected)", e);
        }
    }

    /** libpcap, bound the way pcap4j finds it (JNA resolves libpcap.so.0.8 without the -dev package). */
    private static final class LibPcap {
        static final Pointer DUMP;

        static {
            NativeLibrary lib = NativeLibrary.getInstance(System.getProperty("org.pcap4j.core.pcapLibName", "pcap"));
            Native.register(LibPcap.class, lib);
            DUMP = lib.getFunction("pcap_dump");
        }

        static native Pointer pcap_dump_fopen(Pointer pcap, Pointer file);

        static native int pcap_dispatch(Pointer pcap, int count, Pointer callback, Pointer user);

        static native void pcap_dump_close(Pointer dumper);

        static native String pcap_geterr(Pointer pcap);

        static native int pcap_fileno(Pointer pcap);

        static native int pcap_get_selectable_fd(Pointer pcap);

        static native int pcap_setnonblock(Pointer pcap, int nonblock, Pointer errbuf);
    }

    private static final class LibC {
        static {
            Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        static native Pointer fmemopen(Pointer buffer, long size, String mode);

        static native int setvbuf(Pointer file, Pointer buffer, int mode, long size);

        static native long ftell(Pointer file);

        static native int fflush(Pointer file);

        static native int fseek(Pointer file, long offset, int whence);

        static native int fclose(Pointer file);

        static native int poll(Pointer fds, long count, int timeoutMillis);

        static native int setsockopt(int fd, int level, int name, Pointer value, int length);
    }
}
