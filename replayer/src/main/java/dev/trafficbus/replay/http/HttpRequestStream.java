package dev.trafficbus.replay.http;

import dev.trafficbus.replay.ReplayProblem;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Rewrites the client byte stream of one session request by request: finds each HTTP/1.x request head by
 * its framing, applies {@link HttpRewriteRules} to it, and passes the body through unchanged (Content-Length
 * or chunked, any size), so keep-alive and pipelining keep working. A stream that does not start like an
 * HTTP/1.x request, or that switches protocol, is passed through untouched from then on.
 * Single-threaded; fed one captured client message at a time.
 */
public final class HttpRequestStream {
    /** Sees every request as it is sent (after rewriting). */
    public interface Listener {
        /** A request head: method, target and headers as sent. */
        void request(String method, String url, String version, List<String[]> headers);

        /** Body bytes of the current request, de-chunked. */
        void body(byte[] b, int off, int len);

        /** The current request is complete. */
        void end();
    }

    private enum Mode { HEAD, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILER, PASS }

    private static final int MAX_HEAD = 64 * 1024;

    private final HttpRewriteRules rules;
    private final Listener listener;
    private Mode mode = Mode.HEAD;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long remaining;
    private boolean sawHttp;
    private ReplayProblem passReason;
    private int requests;
    private int filtered;
    /** The current request was left out by the filters: its head and body are not sent. */
    private boolean leftOut;
    private byte prev1;
    private byte prev2;

    /** A stream applying {@code rules}, reporting to {@code listener} (may be null). */
    public HttpRequestStream(HttpRewriteRules rules, Listener listener) {
        this.rules = rules;
        this.listener = listener;
    }

    /** True once a request was recognised. */
    public boolean isHttp() {
        return sawHttp;
    }

    /** Requests recognised so far. */
    public int requests() {
        return requests;
    }

    /** Requests left out by the filters so far. */
    public int filtered() {
        return filtered;
    }

    /** Why the stream is passed through untouched (e.g. "not-http", "http-upgrade"), or null. */
    public ReplayProblem passReason() {
        return passReason;
    }

    /**
     * Rewrites one client message (what the client sent before waiting for an answer). A request head cut by
     * the message's end cannot wait for its rest (the answer the client waited for would never come), so it
     * is sent as captured and the stream passes through from there ({@code passReason} "http-head-split").
     */
    public byte[] rewrite(byte[] message) {
        if (mode == Mode.PASS) {
            return message;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 64);
        int i = 0;
        while (i < message.length) {
            switch (mode) {
                case HEAD -> i = head(message, i, out);
                case FIXED_BODY -> {
                    int n = (int) Math.min(remaining, message.length - i);
                    body(message, i, n, out);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        endRequest();
                    }
                }
                case CHUNK_SIZE, TRAILER, CHUNK_DATA_END -> i = chunkLine(message, i, out);
                case CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, message.length - i);
                    body(message, i, n, out);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        mode = Mode.CHUNK_DATA_END;
                    }
                }
                case PASS -> {
                    out.write(message, i, message.length - i);
                    i = message.length;
                }
            }
        }
        if (mode == Mode.HEAD && pending.size() > 0) {
            pass(ReplayProblem.HTTP_HEAD_SPLIT, out);
        }
        return out.toByteArray();
    }

    /** Consumes head bytes from {@code i}; returns the new position. */
    private int head(byte[] m, int i, ByteArrayOutputStream out) {
        int end = -1;
        for (int j = i; j < m.length; j++) {
            byte c = m[j];
            pending.write(c);
            int n = pending.size();
            if (n <= 21 && !looksLikeRequest()) {
                pass(sawHttp ? ReplayProblem.HTTP_UNPARSED : ReplayProblem.NOT_HTTP, out);
                return j + 1;
            }
            if (n > MAX_HEAD) {
                pass(ReplayProblem.HTTP_HEAD_TOO_LARGE, out);
                return j + 1;
            }
            // A head ends with an empty line: LF LF or LF CR LF.
            if (c == '\n' && (prev1 == '\n' || (prev1 == '\r' && prev2 == '\n'))) {
                end = j + 1;
                prev1 = 0;
                prev2 = 0;
                break;
            }
            prev2 = prev1;
            prev1 = c;
        }
        if (end < 0) {
            return m.length;
        }
        byte[] raw = pending.toByteArray();
        pending.reset();
        if (!parseHead(raw, out)) {
            out.write(raw, 0, raw.length);
            passReason = sawHttp ? ReplayProblem.HTTP_UNPARSED : ReplayProblem.NOT_HTTP;
            mode = Mode.PASS;
        }
        return end;
    }

    /** What is buffered so far could still be the start of a request line. */
    private boolean looksLikeRequest() {
        byte[] b = pending.toByteArray();
        for (int k = 0; k < b.length; k++) {
            byte c = b[k];
            if (c == ' ') {
                return k > 0;
            }
            if (c < 'A' || c > 'Z' || k >= 20) {
                return false;
            }
        }
        return true;
    }

    private boolean parseHead(byte[] raw, ByteArrayOutputStream out) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r?\n", -1);
        String[] first = lines[0].split(" ", -1);
        if (first.length != 3 || !first[2].startsWith("HTTP/1.") || first[1].isEmpty()) {
            return false;
        }
        List<String[]> headers = new ArrayList<>();
        for (int k = 1; k < lines.length; k++) {
            String l = lines[k];
            if (l.isEmpty()) {
                break;
            }
            if ((l.charAt(0) == ' ' || l.charAt(0) == '\t') && !headers.isEmpty()) {
                String[] last = headers.get(headers.size() - 1);
                last[1] = last[1] + " " + l.trim(); // obsolete line folding
                continue;
            }
            int colon = l.indexOf(':');
            if (colon <= 0) {
                return false;
            }
            headers.add(new String[] {l.substring(0, colon).trim(), l.substring(colon + 1).trim()});
        }
        sawHttp = true;
        requests++;
        String method = first[0];
        String url = first[1];
        leftOut = !rules.admits(method, url);
        if (leftOut) {
            filtered++;
        } else if (rules.isEmpty()) {
            out.write(raw, 0, raw.length);
        } else {
            url = rules.url(url);
            rules.headers(headers);
            StringBuilder sb = new StringBuilder(raw.length + 64);
            sb.append(method).append(' ').append(url).append(' ').append(first[2]).append("\r\n");
            for (String[] h : headers) {
                sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
            }
            sb.append("\r\n");
            out.writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        }
        if (listener != null && !leftOut) {
            listener.request(method, url, first[2], headers);
        }
        frame(method, headers);
        return true;
    }

    /** Chooses how the body is delimited (RFC 9112 section 6). */
    private void frame(String method, List<String[]> headers) {
        String te = header(headers, "transfer-encoding");
        String cl = header(headers, "content-length");
        boolean upgrade = method.equals("CONNECT") || header(headers, "upgrade") != null;
        if (te != null && te.toLowerCase(Locale.ROOT).trim().endsWith("chunked")) {
            mode = Mode.CHUNK_SIZE;
        } else if (cl != null) {
            try {
                remaining = Long.parseLong(cl.split(",")[0].trim());
            } catch (NumberFormatException e) {
                remaining = -1;
            }
            if (remaining < 0) {
                passReason = ReplayProblem.HTTP_UNPARSED;
                mode = Mode.PASS;
                return;
            }
            mode = remaining > 0 ? Mode.FIXED_BODY : Mode.HEAD;
            if (remaining == 0) {
                endRequest();
            }
        } else {
            endRequest();
        }
        if (upgrade && mode == Mode.HEAD) {
            // What follows belongs to another protocol if the server agreed; it cannot be framed as HTTP.
            passReason = ReplayProblem.HTTP_UPGRADE;
            mode = Mode.PASS;
        }
    }

    private static String header(List<String[]> headers, String lowerName) {
        String v = null;
        for (String[] h : headers) {
            if (h[0].toLowerCase(Locale.ROOT).equals(lowerName)) {
                v = v == null ? h[1] : v + ", " + h[1];
            }
        }
        return v;
    }

    /** Consumes one line of chunk framing (size line, CRLF after data, trailer line). */
    private int chunkLine(byte[] m, int i, ByteArrayOutputStream out) {
        int j = i;
        while (j < m.length && m[j] != '\n') {
            j++;
        }
        boolean complete = j < m.length;
        int endExclusive = complete ? j + 1 : m.length;
        if (!leftOut) {
            out.write(m, i, endExclusive - i);
        }
        pending.write(m, i, endExclusive - i);
        if (!complete) {
            return endExclusive;
        }
        String line = new String(pending.toByteArray(), StandardCharsets.ISO_8859_1).trim();
        pending.reset();
        switch (mode) {
            case CHUNK_DATA_END -> mode = Mode.CHUNK_SIZE;
            case CHUNK_SIZE -> {
                int semi = line.indexOf(';');
                String hex = semi >= 0 ? line.substring(0, semi).trim() : line;
                try {
                    remaining = Long.parseLong(hex, 16);
                } catch (NumberFormatException e) {
                    remaining = -1;
                }
                if (remaining < 0) {
                    passReason = ReplayProblem.HTTP_UNPARSED;
                    mode = Mode.PASS;
                } else {
                    mode = remaining == 0 ? Mode.TRAILER : Mode.CHUNK_DATA;
                }
            }
            case TRAILER -> {
                if (line.isEmpty()) {
                    endRequest();
                }
            }
            default -> throw new IllegalStateException(mode.name());
        }
        return endExclusive;
    }

    private void body(byte[] m, int off, int len, ByteArrayOutputStream out) {
        if (leftOut) {
            return;
        }
        out.write(m, off, len);
        if (listener != null && len > 0) {
            listener.body(m, off, len);
        }
    }

    private void endRequest() {
        mode = Mode.HEAD;
        if (leftOut) {
            leftOut = false;
            return;
        }
        if (listener != null) {
            listener.end();
        }
    }

    private void pass(ReplayProblem reason, ByteArrayOutputStream out) {
        byte[] held = pending.toByteArray();
        pending.reset();
        prev1 = 0;
        prev2 = 0;
        out.write(held, 0, held.length);
        passReason = reason;
        mode = Mode.PASS;
    }
}
