package dev.trafficbus.intercept;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps intercept's own relay channel out of its capture. With a broad filter (the default {@code tcp}) the frames
 * sent to the replayers and their ACKs would otherwise be captured too: held for nothing, counted as no-route,
 * using up the hold budget of real answers. Only packets from or to the listening port on one of this host's
 * addresses are left out, so a test server's answers to a fake client that happens to use the same port number
 * still pass.
 */
final class OwnChannelFilter {
    private OwnChannelFilter() {
    }

    /**
     * {@code userFilter} minus the channel listening on {@code listen}; {@code localAddresses} stand for a wildcard
     * listen address. Returns {@code userFilter} unchanged when there is no address to name.
     */
    static String exclude(String userFilter, InetSocketAddress listen, List<InetAddress> localAddresses) {
        Set<String> hosts = new LinkedHashSet<>();
        InetAddress bound = listen.getAddress();
        if (bound != null && !bound.isAnyLocalAddress()) {
            hosts.add(literal(bound));
        } else {
            for (InetAddress a : localAddresses) {
                hosts.add(literal(a));
            }
        }
        if (hosts.isEmpty()) {
            return userFilter;
        }
        List<String> src = new ArrayList<>();
        List<String> dst = new ArrayList<>();
        for (String h : hosts) {
            src.add("src host " + h);
            dst.add("dst host " + h);
        }
        int port = listen.getPort();
        return "(" + userFilter + ") and not (tcp and ((src port " + port + " and (" + String.join(" or ", src)
                + ")) or (dst port " + port + " and (" + String.join(" or ", dst) + "))))";
    }

    /** The address as BPF takes it: no IPv6 scope suffix. */
    private static String literal(InetAddress a) {
        try {
            return InetAddress.getByAddress(a.getAddress()).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address of length " + a.getAddress().length, e);
        }
    }
}
