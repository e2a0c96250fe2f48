package dev.trafficbus.replay.conversation;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.nio.charset.StandardCharsets;

/**
 * What each HTTP/2 stream of one connection asked and how it was answered, for the report's endpoint rows:
 * the client's header blocks are decoded (HPACK, the connection's own table from its start) to
 * {@code :method} and the template of {@code :path} (a gRPC call is {@code POST /package.Service/Method}),
 * the server's to {@code :status}, told to the listener with the stream's endpoint. Made only when a report
 * listens; a block that does not decode ends the decoding for the connection (the table is lost with it).
 */
final class Http2Endpoints {
    /** Told what a stream asked for, and the final status of its answer. */
    interface Listener {
        void request(String endpoint);

        void status(String endpoint, int code);
    }

    private final Listener listener;
    private final DefaultHttp2HeadersDecoder requests = new DefaultHttp2HeadersDecoder(false);
    private final DefaultHttp2HeadersDecoder answers = new DefaultHttp2HeadersDecoder(false);
    private final ByteBuf fragment = Unpooled.buffer(256);
    private boolean broken;
    // Streams asked and not answered yet: id and endpoint.
    private int[] ids = new int[8];
    private String[] names = new String[8];
    private int open;

    Http2Endpoints(Listener listener) {
        this.listener = listener;
    }

    /** A whole header block of the client on {@code stream}: {@code raw[0, len)} as {@link Http2Reader#headerBlock()}. */
    void clientBlock(int stream, byte[] raw, int len) {
        Http2Headers h = decode(requests, stream, raw, len);
        if (h == null || h.method() == null || h.path() == null) {
            return; // trailers, or nothing to name
        }
        byte[] line = (h.method() + " " + h.path()).getBytes(StandardCharsets.ISO_8859_1);
        String endpoint = EndpointNames.http(line, line.length);
        if (open == ids.length) {
            ids = java.util.Arrays.copyOf(ids, open * 2);
            names = java.util.Arrays.copyOf(names, open * 2);
        }
        ids[open] = stream;
        names[open++] = endpoint;
        listener.request(endpoint);
    }

    /** A whole header block of the server on {@code stream}. */
    void serverBlock(int stream, byte[] raw, int len) {
        Http2Headers h = decode(answers, stream, raw, len);
        if (h == null || h.status() == null) {
            return; // trailers (gRPC's grpc-status comes here): the status was told with the headers
        }
        int code;
        try {
            code = Integer.parseInt(h.status().toString());
        } catch (NumberFormatException e) {
            return;
        }
        if (code < 200 && code != 101) {
            return; // interim (100, 103): the final answer follows on the same stream
        }
        for (int k = open - 1; k >= 0; k--) {
            if (ids[k] == stream) {
                String endpoint = names[k];
                open--;
                ids[k] = ids[open];
                names[k] = names[open];
                names[open] = null;
                listener.status(endpoint, code);
                return;
            }
        }
        if ((stream & 1) == 1) {
            listener.status(null, code); // asked in a block that named nothing
        }
    }

    private Http2Headers decode(DefaultHttp2HeadersDecoder decoder, int stream, byte[] raw, int len) {
        if (broken) {
            return null;
        }
        if (len < 0) {
            broken = true; // too large to keep: the table's state after it is unknown
            return null;
        }
        fragment.clear();
        Http2Reader.fragmentOf(raw, len, fragment);
        try {
            return decoder.decodeHeaders(stream, fragment);
        } catch (Http2Exception | RuntimeException e) {
            broken = true;
            return null;
        }
    }
}
