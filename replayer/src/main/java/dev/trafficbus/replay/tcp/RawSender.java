package dev.trafficbus.replay.tcp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

import java.io.Closeable;

/**
 * Sends hand-built IP packets (header included) through libc raw sockets: {@code socket(AF_INET, SOCK_RAW,
 * IPPROTO_RAW)} for IPv4 and {@code socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)} for IPv6 (Linux implies
 * IP_HDRINCL for both). The kernel routes each packet and resolves the next hop. Needs CAP_NET_RAW.
 * Not thread-safe: one engine thread sends.
 */
public final class RawSender implements Closeable, PacketOutput {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_RAW = 3;
    private static final int IPPROTO_RAW = 255;
    private static final int SOL_SOCKET = 1;
    private static final int SO_SNDBUF = 7;
    private static final int ENOBUFS = 105;
    private static final int EAGAIN = 11;

    static {
        Native.register("c");
    }

    private static native int socket(int domain, int type, int protocol) throws LastErrorException;

    private static native int sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrLen)
            throws LastErrorException;

    private static native int setsockopt(int fd, int level, int name, int[] value, int len) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private int fd4 = -1;
    private int fd6 = -1;
    private final byte[] sa4 = new byte[16];
    private final byte[] sa6 = new byte[28];

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
        sa4[0] = AF_INET; // sa_family is host order (little-endian on the platforms we run on)
        sa6[0] = AF_INET6;
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
     * Sends {@code len} bytes of {@code packet} (starting with the IP header); the destination address is read
     * from the header. Returns false when the kernel refused it (counted by the caller as lost; TCP retransmits).
     */
    @Override
    public boolean send(byte[] packet, int len) {
        try {
            if ((packet[0] >> 4) == 4) {
                System.arraycopy(packet, 16, sa4, 4, 4);
                return sendOnce(fd4, packet, len, sa4);
            }
            if (fd6 < 0) {
                fd6 = open(AF_INET6);
            }
            System.arraycopy(packet, 24, sa6, 8, 16);
            return sendOnce(fd6, packet, len, sa6);
        } catch (LastErrorException e) {
            return false;
        }
    }

    private static boolean sendOnce(int fd, byte[] packet, int len, byte[] sa) {
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                sendto(fd, packet, len, 0, sa, sa.length);
                return true;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != ENOBUFS && e.getErrorCode() != EAGAIN) {
                    return false;
                }
                Thread.onSpinWait();
            }
        }
        return false;
    }

    @Override
    public void close() {
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
