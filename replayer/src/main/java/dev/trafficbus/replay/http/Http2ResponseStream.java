package dev.trafficbus.replay.http;

import dev.trafficbus.replay.conversation.Http2Reader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the answers of one HTTP/2 connection from the server's frames, from its first byte: per client stream
 * the status and header fields of its first final header block, the DATA (kept up to
 * {@link HttpResponseStream#MAX_BODY}), and a trailing block's fields (gRPC's {@code grpc-status} and
 * {@code grpc-message}) added after the headers. A stream's answer is complete at END_STREAM or RST_STREAM.
 * A block that does not decode ends the reading. Single-threaded; for response records only.
 */
final class Http2ResponseStream {
    /** Told of each complete answer. */
    interface Listener {
        void response(int stream, HttpResponse r);
    }

    private static final class Answer {
        int status;
        final List<String[]> headers = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean truncated;
    }

    private final Listener listener;
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
    private final Map<Integer, Answer> open = new HashMap<>();
    private final byte[] head = new byte[9];
    private int headLen;
    private int remaining;
    private int type;
    private int flags;
    private int stream;
    private final ByteArrayOutputStream block = new ByteArrayOutputStream();
    private int blockStream;
    private int blockFlags;
    private boolean broken;

    Http2ResponseStream(Listener listener) {
        this.listener = listener;
        try {
            decoder.maxHeaderTableSize(1 << 20);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        }
    }

    boolean broken() {
        return broken;
    }

    void feed(byte[] b, int off, int len, long nowNanos) {
        int i = off;
        int end = off + len;
        while (i < end && !broken) {
            if (headLen < 9) {
                head[headLen++] = b[i++];
                if (headLen == 9) {
                    remaining = ((head[0] & 0xFF) << 16) | ((head[1] & 0xFF) << 8) | (head[2] & 0xFF);
                    type = head[3] & 0xFF;
                    flags = head[4] & 0xFF;
                    stream = ((head[5] & 0x7F) << 24) | ((head[6] & 0xFF) << 16) | ((head[7] & 0xFF) << 8)
                            | (head[8] & 0xFF);
                    if (head[0] == 'H' && head[1] == 'T' && head[2] == 'T') {
                        broken = true; // an HTTP/1.x answer, not frames
                        return;
                    }
                    if (type == 1) {
                        block.reset();
                        blockStream = stream;
                        blockFlags = flags;
                    }
                    if (type == 1 || type == 9) {
                        block.write(head, 0, 9);
                    }
                    if (remaining == 0) {
                        frameEnd(nowNanos);
                    }
                }
            } else {
                int n = Math.min(remaining, end - i);
                if (type == 1 || type == 9) {
                    block.write(b, i, n);
                } else if (type == 0) {
                    data(b, i, n);
                }
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    frameEnd(nowNanos);
                }
            }
        }
    }

    private void data(byte[] b, int off, int n) {
        Answer a = open.get(stream);
        if (a == null) {
            return;
        }
        int room = HttpResponseStream.MAX_BODY - a.body.size();
        if (n > room) {
            a.truncated = true;
        }
        a.body.write(b, off, Math.min(n, Math.max(0, room)));
    }

    private void frameEnd(long nowNanos) {
        headLen = 0;
        if ((type == 1 || type == 9) && (flags & 0x4) != 0) {
            headerBlock();
            if ((blockFlags & 0x1) != 0) {
                complete(blockStream, nowNanos);
            }
        } else if (type == 0 && (flags & 0x1) != 0) {
            complete(stream, nowNanos);
        } else if (type == 3) {
            complete(stream, nowNanos);
        }
    }

    private void headerBlock() {
        byte[] raw = block.toByteArray();
        ByteBuf fragment = Unpooled.buffer(raw.length);
        Http2Reader.fragmentOf(raw, raw.length, fragment);
        Http2Headers h;
        try {
            h = decoder.decodeHeaders(blockStream, fragment);
        } catch (Http2Exception | RuntimeException e) {
            broken = true;
            return;
        }
        Answer a = open.get(blockStream);
        CharSequence status = h.status();
        if (status != null) {
            int code;
            try {
                code = Integer.parseInt(status.toString());
            } catch (NumberFormatException e) {
                code = 0;
            }
            if (code >= 100 && code < 200) {
                return; // interim answer
            }
            if (a == null) {
                a = new Answer();
                open.put(blockStream, a);
            }
            a.status = code;
        } else if (a == null) {
            return;
        }
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            if (e.getKey().length() > 0 && e.getKey().charAt(0) != ':') {
                a.headers.add(new String[] {e.getKey().toString(), e.getValue().toString()});
            }
        }
    }

    private void complete(int id, long nowNanos) {
        Answer a = open.remove(id);
        if (a != null && (id & 1) == 1) {
            listener.response(id, new HttpResponse(a.status, a.headers, a.body.toByteArray(), a.truncated, nowNanos));
        }
    }
}
