package dev.trafficbus.replay.tcp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Sends hand-built IP packets (header included) through libc raw sockets: {@code socket(AF_INET, SOCK_RAW,
 * IPPROTO_RAW)} for IPv4 and {@code socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)} for IPv6 (Linux implies
 * IP_HDRINCL for both). The kernel routes each packet and resolves the next hop. Needs CAP_NET_RAW.
 * <p>
 * Packets are queued in native memory and leave in batches of up to {@link #BATCH} with one {@code sendmmsg}
 * call ({@link #flush}): a call from Java into libc and a system call cost more than building a segment, and JNA
 * would copy a Java array argument whole, twice, on every call. Not thread-safe: one engine thread sends.
 */
public final class RawSender implements Closeable, PacketOutput {
    static final int BATCH = 64;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_RAW = 3;
    private static final int IPPROTO_RAW = 255;
    private static final int SOL_SOCKET = 1;
    private static final int SO_SNDBUF = 7;
    private static final int ENOBUFS = 105;
    private static final int EAGAIN = 11;
    // struct mmsghdr (a struct msghdr and the length sent), struct iovec, struct sockaddr_in6 on 64-bit Linux.
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int SOCKADDR = 28;
    private static final int HEADERS = 0;
    private static final int IOVECS = HEADERS + BATCH * MMSGHDR;
    private static final int ADDRESSES = IOVECS + BATCH * IOVEC;
    private static final int DATA = ADDRESSES + BATCH * SOCKADDR;
    /** Room for the packets of one batch; at least one packet of the largest size an IP header can say. */
    private static final int DATA_BYTES = 256 * 1024;

    static {
        Native.register("c");
    }

    private static native int socket(int domain, int type, int protocol) throws LastErrorException;

    private static native int sendmmsg(int fd, long msgvec, int vlen, int flags) throws LastErrorException;

    private static native int setsockopt(int fd, int level, int name, int[] value, int len) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private int fd4 = -1;
    private int fd6 = -1;
    private final Memory memory = new Memory(DATA + DATA_BYTES);
    private final long base = Pointer.nativeValue(memory);
    private final ByteBuffer batch = memory.getByteBuffer(0, memory.size()).order(ByteOrder.nativeOrder());
    private int count;
    private int dataUsed;
    private int batchFd = -1;
    /** Packets refused by a flush that a full batch forced, reported by the next {@link #flush}. */
    private int pendingFailures;

    /**
     * Opens the IPv4 socket now (so a missing privilege shows at start); the IPv6 one on first use.
     *
     * @throws IllegalStateException with the reason when the socket cannot be opened
     */
    public RawSender(boolean ipv6) {
        if (ipv6) {
            fd6 = open(AF_INET6);
        } else {
            fd4 = open(AF_INET);
        }
        memory.clear();
        for (int i = 0; i < BATCH; i++) { // every header points at its own iovec and address, for good
            int h = HEADERS + i * MMSGHDR;
            batch.putLong(h, base + ADDRESSES + (long) i * SOCKADDR);
            batch.putLong(h + 16, base + IOVECS + (long) i * IOVEC);
            batch.putLong(h + 24, 1);
        }
    }

    private static int open(int family) {
        try {
            int fd = socket(family, SOCK_RAW, IPPROTO_RAW);
            try {
                setsockopt(fd, SOL_SOCKET, SO_SNDBUF, new int[] {4 << 20}, 4);
            } catch (LastErrorException e) {
                // a smaller default buffer only means more ENOBUFS retries
            }
            return fd;
        } catch (LastErrorException e) {
            throw new IllegalStateException("cannot open a raw " + (family == AF_INET ? "IPv4" : "IPv6")
                    + " socket (errno " + e.getErrorCode() + "): the tcp engine needs root or CAP_NET_RAW", e);
        }
    }

    /**
     * Queues {@code len} bytes of {@code packet} (starting with the IP header); the destination address is read
     * from the header. A full batch is sent first; the packets not sent then are counted in the returned number
     * of {@link #flush}, so this only returns false for a packet too large for any batch.
     */
    @Override
    public boolean send(byte[] packet, int len) {
        if (len > DATA_BYTES) {
            return false;
        }
        boolean v4 = (packet[0] >> 4) == 4;
        if (!v4 && fd6 < 0) {
            fd6 = open(AF_INET6);
        }
        int fd = v4 ? fd4 : fd6;
        if (count == BATCH || dataUsed + len > DATA_BYTES || (count > 0 && fd != batchFd)) {
            int refused = flush();
            pendingFailures += refused;
        }
        batchFd = fd;
        int i = count++;
        int h = HEADERS + i * MMSGHDR;
        int a = ADDRESSES + i * SOCKADDR;
        if (v4) {
            batch.putShort(a, (short) AF_INET); // sa_family in host order, the port 0, then the address
            batch.putShort(a + 2, (short) 0);
            batch.put(a + 4, packet, 16, 4);
            batch.putLong(a + 8, 0);
            batch.putInt(h + 8, 16);
        } else {
            batch.putShort(a, (short) AF_INET6);
            batch.putShort(a + 2, (short) 0);
            batch.putInt(a + 4, 0);
            batch.put(a + 8, packet, 24, 16);
            batch.putInt(a + 24, 0);
            batch.putInt(h + 8, SOCKADDR);
        }
        int v = IOVECS + i * IOVEC;
        batch.putLong(v, base + DATA + dataUsed);
        batch.putLong(v + 8, len);
        batch.put(DATA + dataUsed, packet, 0, len);
        dataUsed += len;
        return true;
    }

    /** Sends the queued packets; returns how many the kernel refused (lost: TCP retransmits them). */
    @Override
    public int flush() {
        int failed = pendingFailures;
        pendingFailures = 0;
        int at = 0;
        int attempts = 0;
        while (at < count) {
            try {
                at += sendmmsg(batchFd, base + HEADERS + (long) at * MMSGHDR, count - at, 0);
                attempts = 0;
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if ((errno == ENOBUFS || errno == EAGAIN) && ++attempts < 3) {
                    Thread.onSpinWait();
                    continue;
                }
                failed++; // this packet is given up; the rest of the batch still goes
                at++;
                attempts = 0;
            }
        }
        count = 0;
        dataUsed = 0;
        return failed;
    }

    @Override
    public void close() {
        if (fd4 >= 0 || fd6 >= 0) {
            flush(); // the last resets of an interrupted run
        }
        for (int fd : new int[] {fd4, fd6}) {
            if (fd >= 0) {
                try {
                    close(fd);
                } catch (LastErrorException e) {
                    // nothing left to free
                }
            }
        }
        fd4 = -1;
        fd6 = -1;
    }
}
