package dev.trafficbus.replay.http;

import dev.trafficbus.replay.ReplayProblem;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client's HTTP/2 frames re-encoded for the target: header blocks (also in CONTINUATION frames, padded,
 * with priority) decoded with the client's HPACK table and encoded with the replay's own, rules applied, DATA
 * larger than 16,384 bytes split; what the target gets decodes with a fresh decoder of its own.
 */
class Http2RequestStreamTest {
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    static void frame(ByteArrayOutputStream o, int type, int flags, int stream, byte[] p, int off, int len) {
        o.write(len >>> 16);
        o.write(len >>> 8);
        o.write(len);
        o.write(type);
        o.write(flags);
        o.writeBytes(new byte[] {(byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
        o.write(p, off, len);
    }

    static byte[] block(DefaultHttp2HeadersEncoder enc, int stream, Http2Headers h) throws Exception {
        ByteBuf b = Unpooled.buffer();
        enc.encodeHeaders(stream, h, b);
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    static Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").scheme("http").authority("prod:80").path(path)
                .add("user-agent", "client").add("x-long", "v".repeat(300));
    }

    /** The frames of {@code bytes} after the preface: [type, flags, stream, length] and payloads. */
    record Frame(int type, int flags, int stream, byte[] payload) {
    }

    static List<Frame> frames(byte[] b) {
        List<Frame> out = new ArrayList<>();
        for (int at = PREFACE.length; at < b.length; ) {
            int len = ((b[at] & 0xFF) << 16) | ((b[at + 1] & 0xFF) << 8) | (b[at + 2] & 0xFF);
            int stream = ((b[at + 5] & 0x7F) << 24) | ((b[at + 6] & 0xFF) << 16) | ((b[at + 7] & 0xFF) << 8) | (b[at + 8] & 0xFF);
            out.add(new Frame(b[at + 3], b[at + 4] & 0xFF, stream, java.util.Arrays.copyOfRange(b, at + 9, at + 9 + len)));
            at += 9 + len;
        }
        return out;
    }

    @Test
    void headerBlocksAreReencodedWithTheRulesAndDataSplitForTheTarget() throws Exception {
        DefaultHttp2HeadersEncoder client = new DefaultHttp2HeadersEncoder();
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(PREFACE);
        frame(in, 4, 0, 0, new byte[0], 0, 0);
        // Stream 1: padded, with priority, its block cut into HEADERS + CONTINUATION.
        byte[] b1 = block(client, 1, get("/v1/a"));
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        h.write(3); // pad length
        h.writeBytes(new byte[] {0, 0, 0, 0, 16});
        h.write(b1, 0, 10);
        h.writeBytes(new byte[3]);
        frame(in, 1, 0x8 | 0x20 | 0x1, 1, h.toByteArray(), 0, h.size());
        frame(in, 9, 0x4, 1, b1, 10, b1.length - 10);
        // Stream 3: refers to the client's dynamic table, then a body of 40,000 bytes in one DATA frame.
        byte[] b3 = block(client, 3, get("/v1/b").method("POST"));
        frame(in, 1, 0x4, 3, b3, 0, b3.length);
        byte[] body = new byte[40_000];
        frame(in, 0, 0x1, 3, body, 0, body.length);
        byte[] captured = in.toByteArray();

        List<String> seen = new ArrayList<>();
        Http2RequestStream s = new Http2RequestStream(HttpRewriteRules.none().setHeader("X-TB: h2")
                .rewriteUrl("^/v1/(.*)=/v2/$1").host("test:8080"),
                (id, method, url, headers) -> seen.add(id + " " + method + " " + url), false);
        // In two messages, cut inside the second header block.
        int cut = captured.length - body.length - 20;
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.writeBytes(s.rewrite(java.util.Arrays.copyOfRange(captured, 0, cut)));
        sent.writeBytes(s.rewrite(java.util.Arrays.copyOfRange(captured, cut, captured.length)));

        assertThat(s.passReason()).isNull();
        assertThat(seen).containsExactly("1 GET /v2/a", "3 POST /v2/b");
        DefaultHttp2HeadersDecoder target = new DefaultHttp2HeadersDecoder(true);
        List<Frame> out = frames(sent.toByteArray());
        assertThat(out).allMatch(f -> f.payload().length <= 16_384);
        List<Http2Headers> heads = new ArrayList<>();
        long data = 0;
        for (Frame f : out) {
            if (f.type() == 1) {
                heads.add(target.decodeHeaders(f.stream(), Unpooled.wrappedBuffer(f.payload())));
                assertThat(f.flags() & 0x4).as("one frame per block here").isEqualTo(0x4);
                assertThat(f.flags() & 0x1).isEqualTo(f.stream() == 1 ? 1 : 0);
            } else if (f.type() == 0) {
                data += f.payload().length;
                assertThat(f.flags() & 0x1).isEqualTo(data == body.length ? 1 : 0);
            }
        }
        assertThat(data).isEqualTo(body.length);
        assertThat(heads).hasSize(2);
        for (Http2Headers got : heads) {
            assertThat(got.get("x-tb")).hasToString("h2");
            assertThat(got.authority()).hasToString("test:8080");
            assertThat(got.get("x-long")).hasToString("v".repeat(300));
            assertThat(got.path().toString()).startsWith("/v2/");
        }
    }

    @Test
    void aBlockThatDoesNotDecodePassesTheRestAsCaptured() throws Exception {
        DefaultHttp2HeadersEncoder client = new DefaultHttp2HeadersEncoder();
        block(client, 1, get("/first")); // fills the client's table; the stream sees only what follows
        byte[] b3 = block(client, 3, get("/second"));
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(PREFACE);
        frame(in, 1, 0x5, 3, b3, 0, b3.length);
        Http2RequestStream s = new Http2RequestStream(HttpRewriteRules.none().setHeader("X-TB: h2"), null, false);
        byte[] m = in.toByteArray();
        assertThat(s.rewrite(m)).isEqualTo(m);
        assertThat(s.passReason()).isEqualTo(ReplayProblem.HTTP_UNPARSED);
    }
}
