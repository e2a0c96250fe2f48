package dev.trafficbus.replay.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Reads the HTTP/1.x responses of one connection from its byte stream, in order: status, headers and the
 * de-chunked body (kept up to {@link #MAX_BODY}). Interim 1xx answers are skipped. The method of the request
 * each response answers decides whether a body follows (HEAD). Anything unparsable ends the reading.
 * Single-threaded.
 */
public final class HttpResponseStream {
    /** Longest body kept per response; the rest is counted but dropped. */
    public static final int MAX_BODY = 1 << 20;
    private static final int MAX_HEAD = 64 * 1024;

    private enum Mode { HEAD, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILER, UNTIL_CLOSE, BROKEN }

    /** Told each response's bytes as they came (head, body as framed), for a middleware. */
    public interface RawListener {
        /** Response {@code index} (0, 1, ...) was {@code raw}, complete at {@code nowNanos}. */
        void raw(int index, byte[] raw, long nowNanos);
    }

    private final IntFunction<String> methodOf;
    private final Consumer<HttpResponse> out;
    private RawListener rawListener;
    /** The current response's bytes so far, when a raw listener is set (capped like a body). */
    private ByteArrayOutputStream raw;
    private HttpResponse ready;
    private boolean interimSeen;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private Mode mode = Mode.HEAD;
    private int index;
    private long remaining;
    private int status;
    private List<String[]> headers;
    private ByteArrayOutputStream body;
    private boolean truncated;
    private byte prev1;
    private byte prev2;

    /** Responses go to {@code out}; {@code methodOf(i)} is the method of request i (null: unknown). */
    public HttpResponseStream(IntFunction<String> methodOf, Consumer<HttpResponse> out) {
        this.methodOf = methodOf;
        this.out = out;
    }

    /** Also hands every response's bytes, as they were on the wire, to {@code l} (cut like a body past MAX_BODY). */
    public void keepRaw(RawListener l) {
        rawListener = l;
        raw = new ByteArrayOutputStream();
    }

    /** True when the stream could not be read as HTTP responses. */
    public boolean broken() {
        return mode == Mode.BROKEN;
    }

    /** Responses read so far. */
    public int responses() {
        return index;
    }

    /** Bytes of the stream, in order. */
    public void feed(byte[] b, int off, int len, long nowNanos) {
        int i = off;
        int end = off + len;
        while (i < end && mode != Mode.BROKEN) {
            int start = i;
            switch (mode) {
                case HEAD -> i = head(b, i, end, nowNanos);
                case FIXED_BODY, CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, end - i);
                    keep(b, i, n);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        if (mode == Mode.FIXED_BODY) {
                            complete(nowNanos);
                        } else {
                            mode = Mode.CHUNK_DATA_END;
                        }
                    }
                }
                case UNTIL_CLOSE -> {
                    keep(b, i, end - i);
                    i = end;
                }
                case CHUNK_SIZE, CHUNK_DATA_END, TRAILER -> i = chunkLine(b, i, end, nowNanos);
                default -> i = end;
            }
            if (raw != null) {
                rawStep(b, start, i - start);
            }
        }
    }

    /** The bytes of one step are kept; a response it completed (or an interim one it skipped) ends its raw copy. */
    private void rawStep(byte[] b, int off, int len) {
        int room = MAX_BODY + MAX_HEAD - raw.size();
        raw.write(b, off, Math.min(len, Math.max(0, room)));
        if (interimSeen) {
            interimSeen = false;
            raw.reset();
        }
        emitRaw();
    }

    private void emitRaw() {
        if (ready != null) {
            HttpResponse r = ready;
            ready = null;
            byte[] bytes = raw.toByteArray();
            raw.reset();
            rawListener.raw(index - 1, bytes, r.completeNanos());
        }
    }

    /** The connection closed: a response delimited by the close is complete. */
    public void closed(long nowNanos) {
        if (mode == Mode.UNTIL_CLOSE) {
            complete(nowNanos);
            if (raw != null) {
                emitRaw();
            }
        }
    }

    private int head(byte[] b, int i, int end, long now) {
        for (int j = i; j < end; j++) {
            byte c = b[j];
            line.write(c);
            if (line.size() == 5 && !line.toString(StandardCharsets.ISO_8859_1).equals("HTTP/")) {
                mode = Mode.BROKEN;
                return end;
            }
            if (line.size() > MAX_HEAD) {
                mode = Mode.BROKEN;
                return end;
            }
            if (c == '\n' && (prev1 == '\n' || (prev1 == '\r' && prev2 == '\n'))) {
                prev1 = 0;
                prev2 = 0;
                String text = line.toString(StandardCharsets.ISO_8859_1);
                line.reset();
                parseHead(text, now);
                return j + 1;
            }
            prev2 = prev1;
            prev1 = c;
        }
        return end;
    }

    private void parseHead(String text, long now) {
        String[] lines = text.split("\r?\n");
        String[] first = lines[0].split(" ", 3);
        try {
            status = Integer.parseInt(first.length > 1 ? first[1] : "");
        } catch (NumberFormatException e) {
            mode = Mode.BROKEN;
            return;
        }
        headers = new ArrayList<>();
        for (int k = 1; k < lines.length; k++) {
            int colon = lines[k].indexOf(':');
            if (colon > 0) {
                headers.add(new String[] {lines[k].substring(0, colon).trim(), lines[k].substring(colon + 1).trim()});
            }
        }
        body = new ByteArrayOutputStream();
        truncated = false;
        if (status >= 100 && status < 200) {
            mode = status == 101 ? Mode.BROKEN : Mode.HEAD; // interim answer; 101: another protocol follows
            interimSeen = true;
            return;
        }
        String method = methodOf.apply(index);
        String te = header("transfer-encoding");
        String cl = header("content-length");
        if ("HEAD".equals(method) || status == 204 || status == 304) {
            complete(now);
        } else if (te != null && te.toLowerCase(Locale.ROOT).trim().endsWith("chunked")) {
            mode = Mode.CHUNK_SIZE;
        } else if (cl != null) {
            try {
                remaining = Long.parseLong(cl.split(",")[0].trim());
            } catch (NumberFormatException e) {
                mode = Mode.BROKEN;
                return;
            }
            if (remaining <= 0) {
                complete(now);
            } else {
                mode = Mode.FIXED_BODY;
            }
        } else {
            mode = Mode.UNTIL_CLOSE;
        }
    }

    private String header(String lowerName) {
        for (String[] h : headers) {
            if (h[0].toLowerCase(Locale.ROOT).equals(lowerName)) {
                return h[1];
            }
        }
        return null;
    }

    private int chunkLine(byte[] b, int i, int end, long now) {
        int j = i;
        while (j < end && b[j] != '\n') {
            j++;
        }
        if (j == end) {
            line.write(b, i, end - i);
            return end;
        }
        line.write(b, i, j - i);
        String l = line.toString(StandardCharsets.ISO_8859_1).trim();
        line.reset();
        switch (mode) {
            case CHUNK_DATA_END -> mode = Mode.CHUNK_SIZE;
            case CHUNK_SIZE -> {
                int semi = l.indexOf(';');
                try {
                    remaining = Long.parseLong(semi >= 0 ? l.substring(0, semi).trim() : l, 16);
                    mode = remaining == 0 ? Mode.TRAILER : Mode.CHUNK_DATA;
                } catch (NumberFormatException e) {
                    mode = Mode.BROKEN;
                }
            }
            case TRAILER -> {
                if (l.isEmpty()) {
                    complete(now);
                }
            }
            default -> mode = Mode.BROKEN;
        }
        return j + 1;
    }

    private void keep(byte[] b, int off, int len) {
        int room = MAX_BODY - body.size();
        if (len > room) {
            truncated = true;
        }
        body.write(b, off, Math.min(len, Math.max(0, room)));
    }

    private void complete(long now) {
        mode = Mode.HEAD;
        index++;
        HttpResponse r = new HttpResponse(status, headers, body.toByteArray(), truncated, now);
        out.accept(r);
        if (raw != null) {
            ready = r; // handed on with its bytes once the step that completed it is kept
        }
    }
}
