package dev.trafficbus.replay.tls;

import java.nio.charset.StandardCharsets;

/** Finds the server name of a session in its first request's Host header, from the raw bytes. */
final class ServerNames {
    /** Only the head of the first request is looked at. */
    private static final int MAX_HEAD = 16 * 1024;

    private ServerNames() {
    }

    /** The host of the first {@code Host:} header line of {@code request}'s head (port removed), or null. */
    static String hostHeader(byte[] request) {
        if (request == null) {
            return null;
        }
        int end = Math.min(request.length, MAX_HEAD);
        for (int i = 0; i < end; i++) {
            if (request[i] != '\n') {
                continue;
            }
            int line = i + 1;
            if (line + 1 < end && request[line] == '\r' && request[line + 1] == '\n' || line < end && request[line] == '\n') {
                return null; // the end of the head
            }
            if (line + 5 <= end && (request[line] | 0x20) == 'h' && (request[line + 1] | 0x20) == 'o'
                    && (request[line + 2] | 0x20) == 's' && (request[line + 3] | 0x20) == 't' && request[line + 4] == ':') {
                int from = line + 5;
                int to = from;
                while (to < end && request[to] != '\r' && request[to] != '\n') {
                    to++;
                }
                String v = new String(request, from, to - from, StandardCharsets.ISO_8859_1).trim();
                return v.isEmpty() ? null : stripPort(v);
            }
        }
        return null;
    }

    /** "name:8443" → "name", "[::1]:8443" → "::1", "name" → "name". */
    static String stripPort(String hostPort) {
        String h = hostPort.trim();
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            return close > 0 ? h.substring(1, close) : h;
        }
        int colon = h.indexOf(':');
        return colon > 0 && h.indexOf(':', colon + 1) < 0 ? h.substring(0, colon) : h;
    }
}
