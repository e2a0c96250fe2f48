package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.intercept.frame.FrameException;
import dev.trafficbus.intercept.frame.Route;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The fake client addresses of {@code --client-range}: an IPv4 or IPv6 prefix. Hosts are numbered from 0;
 * the network address (and for IPv4 the broadcast address) is left out.
 */
public final class ClientRange {
    private final byte[] network;
    private final int prefixLength;
    private final long hosts;
    private final int firstHost;

    private ClientRange(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
        int hostBits = network.length * 8 - prefixLength;
        long all = hostBits >= 62 ? (1L << 62) : (1L << hostBits);
        // IPv4 leaves out the network and broadcast addresses, IPv6 the subnet-router anycast address.
        boolean v4Edges = network.length == 4 && hostBits >= 2;
        boolean v6Anycast = network.length == 16;
        this.firstHost = v4Edges || v6Anycast ? 1 : 0;
        this.hosts = v4Edges ? all - 2 : v6Anycast ? all - 1 : all;
    }

    /**
     * Parses "10.99.0.0/16" or "fd00:99::/64": a full literal address (never a host name, never a short form
     * like "10.99" that would mean 10.0.0.99) and a prefix length; anything else is a {@link UserInputException}.
     */
    public static ClientRange parse(String text) {
        String t = text == null ? "" : text.trim();
        int slash = t.indexOf('/');
        if (slash <= 0 || !t.substring(slash + 1).matches("[0-9]{1,3}")) {
            throw new UserInputException("--client-range '" + text + "' is not valid: use CIDR, e.g. 10.99.0.0/16");
        }
        // A string starting with anything but a hex digit or ':' would be looked up in DNS by InetAddress.
        if (!t.matches("\\[?[0-9a-fA-F:][0-9a-fA-F:.]*]?/[0-9]+")) {
            throw new UserInputException("--client-range '" + text + "' needs a literal IP address, e.g. 10.99.0.0/16");
        }
        Route route;
        try {
            route = Route.parse(t);
        } catch (FrameException e) {
            throw new UserInputException("--client-range '" + text + "' needs a literal IP address (a.b.c.d or an "
                    + "IPv6 address) and a prefix length, e.g. 10.99.0.0/16", e);
        }
        byte[] net = route.address();
        if (net.length == 16 && t.indexOf('.') >= 0) {
            throw new UserInputException("--client-range '" + text + "' is an IPv4-mapped IPv6 range; give the IPv4 range");
        }
        int len = route.prefixLength();
        int max = net.length * 8;
        if (len < 1 || len > max - 1) {
            throw new UserInputException("--client-range '" + text + "' needs a prefix length between 1 and " + (max - 1));
        }
        return new ClientRange(net, len);
    }

    /** 4 or 16. */
    public int addressLength() {
        return network.length;
    }

    /** The usable host addresses. */
    public long hosts() {
        return hosts;
    }

    /** Distance from the network address to host 0 (1 for IPv4 ranges that keep the network address out). */
    public int firstHostOffset() {
        return firstHost;
    }

    /** The prefix length. */
    public int prefixLength() {
        return prefixLength;
    }

    /** A copy of the network address. */
    public byte[] network() {
        return network.clone();
    }

    /** Writes host number {@code index} (0 ≤ index &lt; hosts) into {@code out} at {@code off}. */
    public void host(long index, byte[] out, int off) {
        System.arraycopy(network, 0, out, off, network.length);
        long v = index + firstHost;
        for (int i = network.length - 1; i >= 0 && v != 0; i--) {
            int sum = (out[off + i] & 0xff) + (int) (v & 0xff);
            out[off + i] = (byte) sum;
            v = (v >>> 8) + (sum >> 8);
        }
    }

    /** True when {@code addr} (4 or 16 bytes at {@code off}) lies in the range. */
    public boolean contains(byte[] addr, int off, int len) {
        if (len != network.length) {
            return false;
        }
        for (int bit = 0; bit < prefixLength; bit++) {
            int mask = 0x80 >> (bit & 7);
            if ((addr[off + (bit >> 3)] & mask) != (network[bit >> 3] & mask)) {
                return false;
            }
        }
        return true;
    }

    /** True for an IPv4 range. */
    public boolean ipv4() {
        return network.length == 4;
    }

    @Override
    public String toString() {
        try {
            InetAddress a = InetAddress.getByAddress(network);
            return (a instanceof Inet4Address ? a.getHostAddress() : a.getHostAddress()) + "/" + prefixLength;
        } catch (UnknownHostException e) {
            return new BigInteger(1, network).toString(16) + "/" + prefixLength;
        }
    }
}
