package dev.trafficbus.replay.conversation;

/**
 * Names what a message asked for, so reports can group answers: an HTTP request becomes its method and
 * path template, with the query left out and every segment that identifies one thing (a number, a UUID, a
 * long hex or base64-like token) written {@code {id}}: {@code GET /users/42/orders?x=1} → {@code GET /users/{id}/orders}.
 */
public final class EndpointNames {
    private static final int MAX = 120;
    /** One String per name for every message and session that asks for it (a bounded number of them). */
    private static final java.util.concurrent.ConcurrentHashMap<String, String> NAMES =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_NAMES = 1024;

    private EndpointNames() {
    }

    /** The template of request line {@code line[0, len)} ("METHOD target ..."), or null when it is none. */
    public static String http(byte[] line, int len) {
        int sp = 0;
        while (sp < len && line[sp] != ' ') {
            sp++;
        }
        if (sp == 0 || sp >= len) {
            return null;
        }
        StringBuilder b = new StringBuilder(Math.min(MAX, len) + 8);
        for (int k = 0; k < sp; k++) {
            b.append((char) (line[k] & 0xff));
        }
        b.append(' ');
        int t = sp + 1;
        int end = t;
        while (end < len && line[end] != ' ' && line[end] != '?' && line[end] != '#') {
            end++;
        }
        // Absolute form (http://host/path): the path is what names the endpoint.
        int scheme = indexOf(line, t, end, "://");
        if (scheme >= 0) {
            int slash = scheme + 3;
            while (slash < end && line[slash] != '/') {
                slash++;
            }
            t = slash;
        }
        if (t >= end) {
            return shared(b.append('/').toString());
        }
        int seg = t;
        while (seg < end && b.length() < MAX) {
            if (line[seg] == '/') {
                b.append('/');
                seg++;
                continue;
            }
            int e = seg;
            while (e < end && line[e] != '/') {
                e++;
            }
            if (isId(line, seg, e)) {
                b.append("{id}");
            } else {
                for (int k = seg; k < e && b.length() < MAX; k++) {
                    b.append((char) (line[k] & 0xff));
                }
            }
            seg = e;
        }
        return shared(b.toString());
    }

    private static String shared(String name) {
        String known = NAMES.get(name);
        if (known != null) {
            return known;
        }
        if (NAMES.size() < MAX_NAMES) {
            known = NAMES.putIfAbsent(name, name);
        }
        return known != null ? known : name;
    }

    /** A path segment that identifies one resource rather than naming a kind of them. */
    static boolean isId(byte[] b, int from, int to) {
        int n = to - from;
        if (n == 0) {
            return false;
        }
        int digits = 0;
        int hex = 0;
        int dashes = 0;
        int other = 0;
        for (int k = from; k < to; k++) {
            byte c = b[k];
            if (c >= '0' && c <= '9') {
                digits++;
            } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
                hex++;
            } else if (c == '-') {
                dashes++;
            } else {
                other++;
            }
        }
        if (digits == n) {
            return true; // 42
        }
        if (other == 0 && dashes == 4 && n == 36) {
            return true; // a UUID
        }
        // A long token with digits in it (hashes, base64 ids); words such as "v2" or "page1" stay.
        return other + hex + dashes + digits == n && n >= 16 && digits >= 2;
    }

    private static int indexOf(byte[] b, int from, int to, String s) {
        outer:
        for (int i = from; i + s.length() <= to; i++) {
            for (int k = 0; k < s.length(); k++) {
                if (b[i + k] != s.charAt(k)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
