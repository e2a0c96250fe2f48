package dev.trafficbus.replay.http;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.ReplayProblem;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The request rewriter and the response reader on hand-built HTTP/1.1 byte streams. */
class HttpStreamsTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static HttpRewriteRules rules() {
        return HttpRewriteRules.none().setHeader("X-Replay: 1").removeHeader("user-agent")
                .rewriteUrl("^/v1/(.*)=/v2/$1").host("staging.internal");
    }

    @Test
    void headersAndTargetAreRewrittenAndBodiesPassUnchanged() {
        List<String> seen = new ArrayList<>();
        ByteArrayOutputStream bodies = new ByteArrayOutputStream();
        HttpRequestStream st = new HttpRequestStream(rules(), new HttpRequestStream.Listener() {
            @Override
            public void request(String method, String url, String version, List<String[]> headers) {
                seen.add(method + " " + url);
            }

            @Override
            public void body(byte[] b, int off, int len) {
                bodies.write(b, off, len);
            }

            @Override
            public void end() {
                seen.add("end");
            }
        });
        byte[] body = new byte[100_000];
        Arrays.fill(body, (byte) 'x');
        String head = "POST /v1/items?id=1 HTTP/1.1\r\nHost: prod\r\nUser-Agent: curl\r\nContent-Length: 100000\r\n\r\n";
        // The body arrives over three messages; a pipelined GET follows in the last one.
        byte[] m1 = b(head + "xxxxx");
        byte[] m2 = Arrays.copyOf(body, 60_000);
        byte[] m3 = b("x".repeat(100_000 - 60_005) + "GET /v1/a HTTP/1.1\r\nHost: prod\r\nX-Replay: 0\r\n\r\n");
        String out = s(st.rewrite(m1)) + s(st.rewrite(m2)) + s(st.rewrite(m3));
        assertThat(out).isEqualTo("POST /v2/items?id=1 HTTP/1.1\r\nHost: staging.internal\r\nContent-Length: 100000\r\n"
                + "X-Replay: 1\r\n\r\n" + "x".repeat(100_000)
                + "GET /v2/a HTTP/1.1\r\nHost: staging.internal\r\nX-Replay: 1\r\n\r\n");
        assertThat(seen).containsExactly("POST /v2/items?id=1", "end", "GET /v2/a", "end");
        assertThat(bodies.toByteArray()).isEqualTo(body);
        assertThat(st.passReason()).isNull();
    }

    @Test
    void chunkedBodiesKeepTheirFramingAndAreDecodedForRecords() {
        ByteArrayOutputStream decoded = new ByteArrayOutputStream();
        HttpRequestStream st = new HttpRequestStream(HttpRewriteRules.none(), new HttpRequestStream.Listener() {
            @Override
            public void request(String method, String url, String version, List<String[]> headers) {
            }

            @Override
            public void body(byte[] b, int off, int len) {
                decoded.write(b, off, len);
            }

            @Override
            public void end() {
            }
        });
        String msg = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
                + "GET /next HTTP/1.1\r\n\r\n";
        // Unchanged rules: the bytes are exactly the captured ones, cut anywhere.
        String out = s(st.rewrite(b(msg.substring(0, 53)))) + s(st.rewrite(b(msg.substring(53, 71))))
                + s(st.rewrite(b(msg.substring(71))));
        assertThat(out).isEqualTo(msg);
        assertThat(s(decoded.toByteArray())).isEqualTo("hello world");
        assertThat(st.requests()).isEqualTo(2);
    }

    @Test
    void otherProtocolsPassThroughUntouched() {
        HttpRequestStream st = new HttpRequestStream(rules(), null);
        byte[] tls = {0x16, 0x03, 0x01, 0x00, 0x05, 'G', 'E', 'T', ' ', '/'};
        assertThat(st.rewrite(tls)).isEqualTo(tls);
        assertThat(st.rewrite(b("GET /v1/x HTTP/1.1\r\n\r\n"))).isEqualTo(b("GET /v1/x HTTP/1.1\r\n\r\n"));
        assertThat(st.passReason()).isEqualTo(ReplayProblem.NOT_HTTP);
        assertThat(st.isHttp()).isFalse();

        HttpRequestStream redis = new HttpRequestStream(rules(), null);
        assertThat(redis.rewrite(b("*1\r\n$4\r\nPING\r\n"))).isEqualTo(b("*1\r\n$4\r\nPING\r\n"));

        HttpRequestStream ws = new HttpRequestStream(rules(), null);
        String up = s(ws.rewrite(b("GET /v1/ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")));
        assertThat(up).startsWith("GET /v2/ws HTTP/1.1\r\n");
        assertThat(ws.rewrite(b("\u0081\u0005hello"))).isEqualTo(b("\u0081\u0005hello"));
        assertThat(ws.passReason()).isEqualTo(ReplayProblem.HTTP_UPGRADE);
    }

    @Test
    void aHeadCutByTheMessageEndIsSentAsCaptured() {
        HttpRequestStream st = new HttpRequestStream(rules(), null);
        assertThat(s(st.rewrite(b("GET /v1/a HTTP/1.1\r\nHost: p\r\n")))).isEqualTo("GET /v1/a HTTP/1.1\r\nHost: p\r\n");
        assertThat(st.passReason()).isEqualTo(ReplayProblem.HTTP_HEAD_SPLIT);
    }

    @Test
    void responsesAreReadInOrderWithTheirBodies() {
        List<HttpResponse> got = new ArrayList<>();
        List<String> methods = List.of("GET", "HEAD", "GET", "GET");
        HttpResponseStream st = new HttpResponseStream(i -> i < methods.size() ? methods.get(i) : null, got::add);
        String stream = "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n" // HEAD: no body follows
                + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnot\r\n6\r\n found\r\n0\r\n\r\n"
                + "HTTP/1.0 500 Oops\r\n\r\nuntil close";
        byte[] all = b(stream);
        for (int i = 0; i < all.length; i += 7) {
            st.feed(all, i, Math.min(7, all.length - i), i);
        }
        st.closed(9999);
        assertThat(got).extracting(HttpResponse::status).containsExactly(200, 200, 404, 500);
        assertThat(got).extracting(r -> s(r.body())).containsExactly("ok", "", "not found", "until close");
        assertThat(got.get(3).completeNanos()).isEqualTo(9999);
        assertThat(st.broken()).isFalse();
    }

    @Test
    void badRulesAreUserErrors() {
        assertThatThrownBy(() -> HttpRewriteRules.none().setHeader("no colon")).isInstanceOf(UserInputException.class)
                .hasMessageContaining("'Name: value'");
        assertThatThrownBy(() -> HttpRewriteRules.none().rewriteUrl("([=x")).hasMessageContaining("not a regular expression");
        assertThatThrownBy(() -> HttpRewriteRules.none().rewriteUrl("nothing")).hasMessageContaining("REGEX=REPLACEMENT");
        assertThatThrownBy(() -> HttpRewriteRules.none().rewriteUrl("^/a=/$2")).hasMessageContaining("replacement");
        assertThatThrownBy(() -> HttpRewriteRules.none().host("a b")).hasMessageContaining("--http-host");
        assertThatThrownBy(() -> HttpRewriteRules.none().removeHeader("a:b")).hasMessageContaining("--http-remove-header");
    }
}
