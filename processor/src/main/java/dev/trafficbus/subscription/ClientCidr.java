package dev.trafficbus.subscription;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** A client network such as {@code 10.0.0.0/8} or {@code fd00::/8}, matched against flow-key bytes. */
public final class ClientCidr {
    private final byte[] network;
    private final int prefix;
    private final String text;

    private ClientCidr(byte[] network, int prefix, String text) {
        this.network = network;
        this.prefix = prefix;
        this.text = text;
    }

    /** Parses {@code address/prefix} (a bare address means a single host); throws IllegalArgumentException. */
    public static ClientCidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        if (addr.isEmpty() || !addr.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("'" + text + "' is not an IP network such as 10.0.0.0/8");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(addr).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP network such as 10.0.0.0/8");
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "': the prefix length is not a number");
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("'" + text + "': the prefix length must be 0 to " + max);
            }
        }
        return new ClientCidr(bytes, prefix, t);
    }

    /** True when the client address of {@code flowKey} is in this network (IP versions must agree). */
    public boolean containsClientOf(byte[] flowKey) {
        if (FlowKeys.addressLength(flowKey) != network.length) {
            return false;
        }
        int off = FlowKeys.clientAddressOffset(flowKey);
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (flowKey[off + i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (flowKey[off + full] & mask) == (network[full] & mask);
    }

    @Override
    public String toString() {
        return text;
    }
}
