package dev.trafficbus.capture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The BPF filter of a live capture: TCP of the service ports (both directions, or only towards them with
 * requests-only), never the forwarder's own traffic to its Kafka bootstrap brokers, and the user's
 * expression on top.
 */
final class CaptureFilter {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureFilter.class);

    private CaptureFilter() {
    }

    /**
     * The filter expression. {@code bootstrapServers} is Kafka's comma-separated HOST:PORT list; host names
     * are resolved here, because a name libpcap cannot resolve would fail the whole filter.
     */
    static String build(Set<Integer> servicePorts, boolean requestsOnly, String bootstrapServers, String userFilter) {
        StringJoiner ports = new StringJoiner(" or ", "(", ")");
        for (int port : servicePorts) {
            ports.add((requestsOnly ? "dst port " : "port ") + port);
        }
        StringBuilder filter = new StringBuilder("tcp and ").append(ports);
        for (String exclusion : kafkaExclusions(bootstrapServers)) {
            filter.append(" and not (").append(exclusion).append(')');
        }
        if (userFilter != null && !userFilter.isBlank()) {
            filter.append(" and (").append(userFilter.strip()).append(')');
        }
        return filter.toString();
    }

    /** "host A and port P" for every address of every bootstrap broker. */
    static Set<String> kafkaExclusions(String bootstrapServers) {
        Set<String> out = new LinkedHashSet<>();
        if (bootstrapServers == null) {
            return out;
        }
        for (String server : bootstrapServers.split(",")) {
            String s = server.strip();
            int colon = s.lastIndexOf(':');
            if (s.isEmpty() || colon <= 0) {
                continue;
            }
            String host = s.substring(0, colon);
            String port = s.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (!port.matches("\\d{1,5}")) {
                continue;
            }
            try {
                for (InetAddress address : InetAddress.getAllByName(host)) {
                    out.add("host " + address.getHostAddress().replaceAll("%.*$", "") + " and port " + port);
                }
            } catch (UnknownHostException e) {
                LOG.warn("cannot resolve Kafka broker {}: its traffic is not excluded from the capture", host);
            }
        }
        return out;
    }
}
