package dev.trafficbus.subscription.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The first request of an HTTP/2 session (h2c with prior knowledge): after the client's preface, the first
 * HEADERS frame and its CONTINUATION frames hold the header block, decoded with a fresh HPACK table (the
 * connection's first block needs no earlier one). It becomes a {@link RequestHead} as HTTP/1 rules read it:
 * {@code :method}, {@code :path}, and the header fields as {@code name: value} lines, with {@code Host: ...}
 * from {@code :authority} when no host field is sent, so rules written for HTTP/1 heads apply unchanged.
 */
final class Http2FirstRequest {
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADERS = 1;
    private static final int CONTINUATION = 9;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int PRIORITY = 0x20;

    /** What was found in the stream's first bytes. */
    record Result(FirstRequest.Outcome outcome, RequestHead head) {
    }

    private Http2FirstRequest() {
    }

    /** -1: not the preface; 0: the preface so far, more needed; 1: the whole preface. */
    static int preface(byte[] s, int len) {
        int n = Math.min(len, PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (s[i] != PREFACE[i]) {
                return -1;
            }
        }
        return n == PREFACE.length ? 1 : 0;
    }

    /** Reads the first request from {@code s[0, len)}, which starts with the preface. */
    static Result search(byte[] s, int len) {
        ByteBuf block = null;
        int at = PREFACE.length;
        while (true) {
            if (len - at < 9) {
                return new Result(FirstRequest.Outcome.NEED_MORE, null);
            }
            int n = ((s[at] & 0xFF) << 16) | ((s[at + 1] & 0xFF) << 8) | (s[at + 2] & 0xFF);
            int type = s[at + 3] & 0xFF;
            int flags = s[at + 4] & 0xFF;
            if (len - at - 9 < n) {
                return new Result(FirstRequest.Outcome.NEED_MORE, null);
            }
            int start = at + 9;
            int end = start + n;
            if (type == HEADERS && block == null) {
                if ((flags & PADDED) != 0 && n > 0) {
                    end -= s[start] & 0xFF;
                    start++;
                }
                if ((flags & PRIORITY) != 0) {
                    start += 5;
                }
                block = Unpooled.buffer(Math.max(0, end - start));
            } else if (type != CONTINUATION || block == null) {
                at += 9 + n; // SETTINGS, WINDOW_UPDATE, PRIORITY, PING before the first request
                continue;
            }
            if (end > start) {
                block.writeBytes(s, start, end - start);
            }
            at += 9 + n;
            if ((flags & END_HEADERS) != 0) {
                return decode(block);
            }
        }
    }

    private static Result decode(ByteBuf block) {
        Http2Headers h;
        try {
            h = new DefaultHttp2HeadersDecoder(false).decodeHeaders(1, block);
        } catch (Http2Exception | RuntimeException e) {
            return new Result(FirstRequest.Outcome.NOT_HTTP, null);
        }
        if (h.method() == null) {
            return new Result(FirstRequest.Outcome.NOT_HTTP, null);
        }
        List<String> lines = new ArrayList<>(h.size() + 1);
        boolean host = false;
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            String name = e.getKey().toString();
            if (!name.startsWith(":")) {
                lines.add(name + ": " + e.getValue());
                host |= name.equalsIgnoreCase("host");
            }
        }
        if (!host && h.authority() != null) {
            lines.add(0, "Host: " + h.authority());
        }
        String path = h.path() == null ? "" : h.path().toString();
        return new Result(FirstRequest.Outcome.FOUND, new RequestHead(h.method().toString(), path, lines));
    }
}
