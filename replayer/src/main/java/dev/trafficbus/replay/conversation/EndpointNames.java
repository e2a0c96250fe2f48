package dev.trafficbus.replay.conversation;

/**
 * Names what a message asked for, so reports can group answers: an HTTP request becomes its method and
 * path template, with the query left out and every segment that identifies one thing (a number, a UUID, a
 * long hex or base64-like token) written {@code {id}}: {@code GET /users/42/orders?x=1} → {@code GET /users/{id}/orders}.
 */
public final class EndpointNames {
    private static final int MAX = 120;
    /** The names made so far, at most MAX_NAMES of them, found again by their bytes (open addressing). */
    private static final String[] NAMES = new String[4096];
    private static final int MAX_NAMES = 1024;
    private static final int PROBES = 16;
    private static int names;
    /** Each thread writes a name here first: one asked again (nearly every one) is found without a copy. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[MAX + 64]);

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
        byte[] b = SCRATCH.get();
        if (b.length < sp + MAX + 8) {
            b = new byte[sp + MAX + 8];
            SCRATCH.set(b);
        }
        System.arraycopy(line, 0, b, 0, sp);
        int n = sp;
        b[n++] = ' ';
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
            b[n++] = '/';
            return named(b, n);
        }
        int seg = t;
        while (seg < end && n < MAX) {
            if (line[seg] == '/') {
                b[n++] = '/';
                seg++;
                continue;
            }
            int e = seg;
            while (e < end && line[e] != '/') {
                e++;
            }
            if (isId(line, seg, e)) {
                b[n++] = '{';
                b[n++] = 'i';
                b[n++] = 'd';
                b[n++] = '}';
            } else {
                for (int k = seg; k < e && n < MAX; k++) {
                    b[n++] = line[k];
                }
            }
            seg = e;
        }
        return named(b, n);
    }

    /** The one String of name {@code b[0, n)} (Latin-1), made when it is new. */
    private static String named(byte[] b, int n) {
        int h = 0;
        for (int k = 0; k < n; k++) {
            h = 31 * h + b[k];
        }
        int mask = NAMES.length - 1;
        int at = (h ^ (h >>> 16)) & mask;
        // Read without a lock: a String is immutable, so one seen in the table is seen whole.
        for (int i = 0; i < PROBES; i++) {
            String known = NAMES[(at + i) & mask];
            if (known == null) {
                break;
            }
            if (sameText(known, b, n)) {
                return known;
            }
        }
        String name = new String(b, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
        synchronized (NAMES) {
            for (int i = 0; i < PROBES && names < MAX_NAMES; i++) {
                String known = NAMES[(at + i) & mask];
                if (known == null) {
                    NAMES[(at + i) & mask] = name;
                    names++;
                    break;
                }
                if (sameText(known, b, n)) {
                    return known;
                }
            }
        }
        return name;
    }

    private static boolean sameText(String s, byte[] b, int n) {
        if (s.length() != n) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (s.charAt(k) != (char) (b[k] & 0xff)) {
                return false;
            }
        }
        return true;
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
