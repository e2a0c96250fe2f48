package dev.trafficbus.replay.http;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.Http2Reader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The client side of one HTTP/2 connection, from its preface on: every header block (HEADERS and its
 * CONTINUATION frames) is decoded with the HPACK state of the captured connection, changed by the rules, and
 * encoded again for the target with an encoder of its own (no dynamic table, so whatever header table size the
 * target announces, it can decode every block), in frames no larger than every server accepts. Other frames
 * pass as captured, DATA split to that size too. What a stream asks is told to the {@link Listener}, which may
 * leave the stream out: its frames are not sent, and since the target's HPACK state is the encoder's, the
 * streams sent stay readable. A block that cannot be decoded (a capture begun mid-connection lacks the
 * table it refers to) ends the rewriting: the rest of the connection passes as captured, counted.
 */
final class Http2RequestStream {
    /** Told of every request stream's head before it is sent. */
    interface Listener {
        /** Stream {@code id} asks {@code method url} with {@code headers} (as sent); false leaves it out. */
        boolean request(int id, String method, String url, List<String[]> headers);
    }

    private static final int HEAD = 9;
    private static final long MAX_HEADER_LIST = 1 << 20;
    private static final long MAX_DECODER_TABLE = 1 << 20;

    private final HttpRewriteRules rules;
    private final Listener listener;
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false, MAX_HEADER_LIST);
    private final DefaultHttp2HeadersEncoder encoder =
            new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, true);
    private int prefaceLeft = Http2Reader.PREFACE_LENGTH;
    private final byte[] head = new byte[HEAD];
    private int headLen;
    // The frame being read.
    private int length;
    private int type;
    private int flags;
    private int stream;
    private int remaining;
    /** DATA split for the target: bytes left in the piece being written. */
    private int pieceLeft;
    private boolean skip;
    // A header block being collected: its frames as captured, and its first frame's stream and flags.
    private final ByteArrayOutputStream block = new ByteArrayOutputStream();
    private int blockStream;
    private int blockFlags;
    private final ByteBuf fragment = Unpooled.buffer(256);
    private final ByteBuf encoded = Unpooled.buffer(256);
    /** Streams left out by the listener, whose later frames are dropped too. */
    private final IntSet dropped = new IntSet();
    private ReplayProblem passReason;
    private int requests;
    private int filtered;

    /** {@code midConnection}: the capture lacks the connection's start; its bytes pass as captured. */
    Http2RequestStream(HttpRewriteRules rules, Listener listener, boolean midConnection) {
        this.rules = rules;
        this.listener = listener;
        this.passReason = midConnection ? ReplayProblem.HTTP_MID_CONNECTION : null;
        try {
            decoder.maxHeaderTableSize(MAX_DECODER_TABLE);
            encoder.maxHeaderListSize(0xFFFFFFFFL);
            // A table of 0 fits every target's SETTINGS_HEADER_TABLE_SIZE, also before its SETTINGS arrive.
            encoder.maxHeaderTableSize(0);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Requests (streams opened) seen so far. */
    int requests() {
        return requests;
    }

    /** Streams left out by the filters so far. */
    int filtered() {
        return filtered;
    }

    /** Why the rest is passed as captured, or null. */
    ReplayProblem passReason() {
        return passReason;
    }

    /** Rewrites one client message. */
    byte[] rewrite(byte[] m) {
        if (passReason != null) {
            return m;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(m.length + 32);
        int i = 0;
        while (i < m.length && passReason == null) {
            if (prefaceLeft > 0) {
                int n = Math.min(prefaceLeft, m.length - i);
                out.write(m, i, n);
                prefaceLeft -= n;
                i += n;
            } else if (headLen < HEAD) {
                head[headLen++] = m[i++];
                if (headLen == HEAD) {
                    startFrame(out);
                }
            } else {
                int n = Math.min(remaining, m.length - i);
                payload(m, i, n, out);
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    endFrame(out);
                }
            }
        }
        if (passReason != null && i < m.length) {
            out.write(m, i, m.length - i);
        }
        return out.toByteArray();
    }

    private void startFrame(ByteArrayOutputStream out) {
        length = ((head[0] & 0xFF) << 16) | ((head[1] & 0xFF) << 8) | (head[2] & 0xFF);
        type = head[3] & 0xFF;
        flags = head[4] & 0xFF;
        stream = ((head[5] & 0x7F) << 24) | ((head[6] & 0xFF) << 16) | ((head[7] & 0xFF) << 8) | (head[8] & 0xFF);
        remaining = length;
        skip = stream != 0 && !dropped.isEmpty() && dropped.contains(stream);
        if (skip && (flags & Http2Reader.FLAG_END_STREAM) != 0
                && (type == Http2Reader.DATA || type == Http2Reader.HEADERS)) {
            dropped.remove(stream); // the client is done with it: nothing more of it will come
        }
        if (type == Http2Reader.HEADERS || type == Http2Reader.CONTINUATION) {
            if (type == Http2Reader.HEADERS) {
                block.reset();
                blockStream = stream;
                blockFlags = flags;
            }
            block.write(head, 0, HEAD);
        } else if (!skip) {
            if (type == Http2Reader.DATA && length > Http2Reader.MIN_MAX_FRAME
                    && (flags & Http2Reader.FLAG_PADDED) == 0) {
                pieceLeft = 0; // written in pieces as the payload comes
            } else {
                out.write(head, 0, HEAD);
                pieceLeft = -1;
            }
        }
        if (remaining == 0) {
            endFrame(out);
        }
    }

    private void payload(byte[] m, int off, int n, ByteArrayOutputStream out) {
        if (type == Http2Reader.HEADERS || type == Http2Reader.CONTINUATION) {
            block.write(m, off, n);
        } else if (skip) {
            return;
        } else if (pieceLeft < 0) {
            out.write(m, off, n);
        } else {
            for (int done = 0; done < n; ) {
                if (pieceLeft == 0) {
                    int piece = Math.min(Http2Reader.MIN_MAX_FRAME, remaining - done);
                    boolean last = piece == remaining - done;
                    frameHead(out, piece, Http2Reader.DATA, last ? flags : 0, stream);
                    pieceLeft = piece;
                }
                int k = Math.min(pieceLeft, n - done);
                out.write(m, off + done, k);
                pieceLeft -= k;
                done += k;
            }
        }
    }

    private void endFrame(ByteArrayOutputStream out) {
        headLen = 0;
        if ((type == Http2Reader.HEADERS || type == Http2Reader.CONTINUATION)
                && (flags & Http2Reader.FLAG_END_HEADERS) != 0) {
            headerBlock(out);
        }
    }

    /** A whole header block: decoded, rewritten, encoded again (or left out with its stream). */
    private void headerBlock(ByteArrayOutputStream out) {
        byte[] raw = block.toByteArray();
        fragment.clear();
        Http2Reader.fragmentOf(raw, raw.length, fragment);
        Http2Headers headers;
        try {
            headers = decoder.decodeHeaders(blockStream, fragment);
        } catch (Http2Exception | RuntimeException e) {
            // No HPACK context (a capture begun mid-connection) or a broken block: the target must get the
            // client's own encoding from here on, which only the client's table can read.
            out.write(raw, 0, raw.length);
            passReason = ReplayProblem.HTTP_UNPARSED;
            return;
        }
        boolean send = rewriteHeaders(headers);
        if (!send) {
            if ((blockFlags & Http2Reader.FLAG_END_STREAM) == 0) {
                dropped.add(blockStream); // its DATA and trailers follow
            }
            return;
        }
        if (skip) {
            return; // trailers of a stream left out
        }
        encoded.clear();
        try {
            encoder.encodeHeaders(blockStream, headers, encoded);
        } catch (Http2Exception e) {
            out.write(raw, 0, raw.length);
            passReason = ReplayProblem.HTTP_UNPARSED;
            return;
        }
        boolean first = true;
        while (first || encoded.isReadable()) {
            int piece = Math.min(Http2Reader.MIN_MAX_FRAME, encoded.readableBytes());
            boolean last = piece == encoded.readableBytes();
            int f = (first ? blockFlags & Http2Reader.FLAG_END_STREAM : 0) | (last ? Http2Reader.FLAG_END_HEADERS : 0);
            frameHead(out, piece, first ? Http2Reader.HEADERS : Http2Reader.CONTINUATION, f, blockStream);
            out.write(encoded.array(), encoded.arrayOffset() + encoded.readerIndex(), piece);
            encoded.skipBytes(piece);
            first = false;
        }
    }

    /** Applies the rules to a request's head (not to trailers); false when the listener leaves it out. */
    private boolean rewriteHeaders(Http2Headers headers) {
        CharSequence method = headers.method();
        if (method == null) {
            return true; // trailers: nothing to rewrite or decide
        }
        requests++;
        CharSequence path = headers.path();
        String url = path == null ? "" : path.toString();
        if (!rules.admits(method.toString(), url)) {
            filtered++;
            return false;
        }
        List<String[]> list = new ArrayList<>(headers.size());
        for (Map.Entry<CharSequence, CharSequence> h : headers) {
            if (h.getKey().length() > 0 && h.getKey().charAt(0) != ':') {
                list.add(new String[] {h.getKey().toString(), h.getValue().toString()});
            }
        }
        if (!rules.isEmpty()) {
            url = rules.url(url);
            rules.headers(list);
            Http2Headers pseudo = new DefaultHttp2Headers(false);
            for (Map.Entry<CharSequence, CharSequence> h : headers) {
                if (h.getKey().length() > 0 && h.getKey().charAt(0) == ':') {
                    pseudo.add(h.getKey(), h.getValue());
                }
            }
            headers.clear();
            headers.add(pseudo);
            if (path != null) {
                headers.path(url);
            }
            String host = rules.hostOverride();
            if (host != null) {
                headers.authority(host); // HTTP/2 carries the Host as :authority
            }
            for (String[] h : list) {
                String name = h[0].toLowerCase(Locale.ROOT);
                if (host != null && name.equals("host")) {
                    continue;
                }
                headers.add(name, h[1]);
            }
        }
        return listener == null || listener.request(blockStream, method.toString(), url, list);
    }

    private static void frameHead(ByteArrayOutputStream out, int len, int type, int flags, int stream) {
        out.write(len >>> 16);
        out.write(len >>> 8);
        out.write(len);
        out.write(type);
        out.write(flags);
        out.write(stream >>> 24);
        out.write(stream >>> 16);
        out.write(stream >>> 8);
        out.write(stream);
    }

    /** A few stream ids, without boxing. */
    private static final class IntSet {
        private int[] ids = new int[4];
        private int size;

        boolean isEmpty() {
            return size == 0;
        }

        boolean contains(int id) {
            for (int k = size - 1; k >= 0; k--) {
                if (ids[k] == id) {
                    return true;
                }
            }
            return false;
        }

        void remove(int id) {
            for (int k = size - 1; k >= 0; k--) {
                if (ids[k] == id) {
                    ids[k] = ids[--size];
                    return;
                }
            }
        }

        void add(int id) {
            if (size == ids.length) {
                ids = java.util.Arrays.copyOf(ids, size * 2);
            }
            ids[size++] = id;
        }
    }
}
