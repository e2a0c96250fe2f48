package dev.trafficbus.intercept.frame;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The route a replayer registers: responses whose destination address lies in {@code address/prefixLength}
 * and whose destination port lies in {@code [firstPort, lastPort]} belong to it.
 */
public final class Route {
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final String IPV4_LITERAL = OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET;

    private final byte[] address;
    private final int prefixLength;
    private final int firstPort;
    private final int lastPort;

    /**
     * A route; the address bytes (4 or 16) are copied and the bits beyond the prefix cleared.
     *
     * @throws FrameException when the address length, prefix length or port range is out of range
     */
    public Route(byte[] address, int prefixLength, int firstPort, int lastPort) {
        if (address.length != 4 && address.length != 16) {
            throw new FrameException("route address must have 4 or 16 bytes, got " + address.length);
        }
        if (prefixLength < 0 || prefixLength > address.length * 8) {
            throw new FrameException("route prefix length " + prefixLength + " out of range for a "
                    + (address.length == 4 ? "IPv4" : "IPv6") + " address");
        }
        if (firstPort < 0 || lastPort > 65535 || firstPort > lastPort) {
            throw new FrameException("route port range " + firstPort + "-" + lastPort + " is invalid");
        }
        this.address = masked(address, prefixLength);
        this.prefixLength = prefixLength;
        this.firstPort = firstPort;
        this.lastPort = lastPort;
    }

    /** A route for {@code address/prefixLength}, every port. */
    public static Route of(InetAddress address, int prefixLength) {
        return new Route(address.getAddress(), prefixLength, 0, 65535);
    }

    /** Parses {@code ADDRESS/PREFIX[:FIRST-LAST]}, e.g. {@code 10.99.0.0/16:1024-65535} or {@code fd00::/64}. */
    public static Route parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        if (slash < 0) {
            throw new FrameException("route '" + text + "' needs ADDRESS/PREFIX");
        }
        String host = t.substring(0, slash).replace("[", "").replace("]", "");
        String tail = t.substring(slash + 1);
        int firstPort = 0;
        int lastPort = 65535;
        int colon = tail.indexOf(':');
        try {
            if (colon >= 0) {
                String ports = tail.substring(colon + 1);
                int dash = ports.indexOf('-');
                firstPort = Integer.parseInt(dash < 0 ? ports : ports.substring(0, dash));
                lastPort = dash < 0 ? firstPort : Integer.parseInt(ports.substring(dash + 1));
                tail = tail.substring(0, colon);
            }
        } catch (NumberFormatException e) {
            throw new FrameException("bad port range in route '" + text + "'");
        }
        int prefix;
        try {
            prefix = Integer.parseInt(tail);
        } catch (NumberFormatException e) {
            throw new FrameException("bad prefix length in route '" + text + "'");
        }
        boolean v6 = host.indexOf(':') >= 0;
        // Only full literals: InetAddress would read "10.99" as 10.0.0.99 and resolve "cafe" through DNS.
        if (v6 ? !host.matches("[0-9a-fA-F:.]+") : !host.matches(IPV4_LITERAL)) {
            throw new FrameException("route '" + text + "' needs a literal IP address (a.b.c.d or an IPv6 address)");
        }
        byte[] address;
        try {
            address = InetAddress.getByName(host).getAddress();
        } catch (UnknownHostException e) {
            throw new FrameException("bad address in route '" + text + "'");
        }
        if (v6 && address.length == 4) { // ::ffff:a.b.c.d comes back as IPv4; the prefix counts IPv6 bits
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xFF;
            mapped[11] = (byte) 0xFF;
            System.arraycopy(address, 0, mapped, 12, 4);
            address = mapped;
        }
        return new Route(address, prefix, firstPort, lastPort);
    }

    private static byte[] masked(byte[] address, int prefixLength) {
        byte[] copy = address.clone();
        for (int bit = prefixLength; bit < copy.length * 8; bit++) {
            copy[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
        }
        return copy;
    }

    /** True when the destination address at {@code addr[off..off+len)} and {@code port} fall in this route. */
    public boolean matches(byte[] addr, int off, int len, int port) {
        if (len != address.length || port < firstPort || port > lastPort) {
            return false;
        }
        int full = prefixLength >>> 3;
        for (int i = 0; i < full; i++) {
            if (addr[off + i] != address[i]) {
                return false;
            }
        }
        int rem = prefixLength & 7;
        if (rem == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rem)) & 0xFF;
        return (addr[off + full] & mask) == (address[full] & 0xFF);
    }

    /** The network address (4 or 16 bytes, bits beyond the prefix cleared); a copy. */
    public byte[] address() {
        return address.clone();
    }

    /** 4 for IPv4, 6 for IPv6. */
    public int family() {
        return address.length == 4 ? 4 : 6;
    }

    public int prefixLength() {
        return prefixLength;
    }

    public int firstPort() {
        return firstPort;
    }

    public int lastPort() {
        return lastPort;
    }

    int addressLength() {
        return address.length;
    }

    byte addressByte(int i) {
        return address[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Route r && r.prefixLength == prefixLength && r.firstPort == firstPort
                && r.lastPort == lastPort && Arrays.equals(r.address, address);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(address) * 31 + prefixLength) * 31 + firstPort * 65536 + lastPort;
    }

    @Override
    public String toString() {
        String host;
        try {
            host = InetAddress.getByAddress(address).getHostAddress();
        } catch (UnknownHostException e) {
            host = Arrays.toString(address);
        }
        String net = address.length == 16 ? "[" + host + "]/" + prefixLength : host + "/" + prefixLength;
        return net + ":" + firstPort + "-" + lastPort;
    }
}
