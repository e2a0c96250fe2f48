package dev.trafficbus.redact;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.packet.TestPackets;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PayloadRedactorTest {
    private static final String HEAD = "GET /a HTTP/1.1\r\nHost: h\r\nauthorization: Bearer tok.en\r\n"
            + "X-Other: keep\r\nCOOKIE:session=abc; t=2\r\n\r\n";
    private static final String MASKED = "GET /a HTTP/1.1\r\nHost: h\r\nauthorization: *************\r\n"
            + "X-Other: keep\r\nCOOKIE:****************\r\n\r\n";
    private final RedactionRules defaults = new RedactionRules(RedactionRules.DEFAULT_HEADERS, List.of());

    @Test
    void masksHeaderValuesAndPatternsSameLengthWithAValidChecksum() {
        RedactionRules rules = new RedactionRules(List.of("Authorization", "cookie"),
                List.of(Pattern.compile("card=(\\d{16})")));
        PayloadRedactor r = new PayloadRedactor(rules);
        String req = "POST /pay HTTP/1.1\r\nAuthorization: Bearer abc.def\r\nCookie: s=1\r\nContent-Length: 21\r\n\r\n"
                + "card=4111111111111111";
        byte[] ip = segment(req, 1000);
        PacketView v = view(ip);
        assertThat(r.mask(ip, v.tcpOffset(), v.payloadOffset(), v.payloadLength())).isEqualTo(3);
        assertThat(payload(ip)).isEqualTo("POST /pay HTTP/1.1\r\nAuthorization: **************\r\nCookie: ***\r\n"
                + "Content-Length: 21\r\n\r\ncard=****************");
        assertThat(checksum(ip)).as("a valid segment sums to 0").isZero();
        assertThat(r.fields(0)).isEqualTo(1);
        assertThat(r.fields(1)).isEqualTo(1);
        assertThat(r.fields(2)).isEqualTo(1);
        assertThat(rules.label(2)).isEqualTo("pattern:card=(\\d{16})");
    }

    @Test
    void aHeadSplitAtAnyByteIntoTwoSegmentsIsMaskedAsAWhole() {
        for (int cut = 1; cut < HEAD.length(); cut++) {
            PayloadRedactor r = new PayloadRedactor(defaults);
            byte[] first = segment(HEAD.substring(0, cut), 1000);
            byte[] second = segment(HEAD.substring(cut), 1000 + cut);
            long state = scan(r, first, PayloadRedactor.MESSAGE_START);
            // The CR of the blank line already ends the head: only its LF may be left for the next segment.
            assertThat(PayloadRedactor.headOpen(state)).as("open after %d bytes", cut)
                    .isEqualTo(cut < HEAD.length() - 1);
            state = scan(r, second, state);
            assertThat(PayloadRedactor.headOpen(state)).as("closed by the blank line").isFalse();
            assertThat(payload(first) + payload(second)).as("cut at %d", cut).isEqualTo(MASKED);
            assertThat(checksum(first)).isZero();
            assertThat(checksum(second)).isZero();
            assertThat(r.totalFields()).as("each value counted once, cut at %d", cut).isEqualTo(2);
        }
    }

    @Test
    void aHeadSplitIntoOneByteSegmentsIsMasked() {
        PayloadRedactor r = new PayloadRedactor(defaults);
        long state = PayloadRedactor.MESSAGE_START;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < HEAD.length(); i++) {
            byte[] one = segment(HEAD.substring(i, i + 1), 1000 + i);
            state = scan(r, one, state);
            out.append(payload(one));
        }
        assertThat(out.toString()).isEqualTo(MASKED);
    }

    @Test
    void onlyWholeNamesAtALineStartMatchAndFoldedValuesAreMasked() {
        PayloadRedactor r = new PayloadRedactor(defaults);
        String in = "HTTP/1.1 200 OK\r\nX-Cookie: a\r\nCookies: b\r\nSet-Cookie : id=1;\r\n\tPath=/\r\nCookie:\r\n"
                + "Proxy-Authorization:\tBasic eA==\r\nbody Cookie: c\r\n\r\n";
        byte[] ip = segment(in, 5);
        PacketView v = view(ip);
        r.maskHeaders(ip, v.tcpOffset(), v.payloadOffset(), v.payloadLength(), PayloadRedactor.MESSAGE_START);
        assertThat(payload(ip)).isEqualTo("HTTP/1.1 200 OK\r\nX-Cookie: a\r\nCookies: b\r\nSet-Cookie : *****\r\n"
                + "*******\r\nCookie:\r\nProxy-Authorization:\t**********\r\nbody Cookie: c\r\n\r\n");
        assertThat(r.totalFields()).as("an empty value is not a field").isEqualTo(2);
    }

    @Test
    void aSecondMessageInTheSamePayloadReopensTheHead() {
        PayloadRedactor r = new PayloadRedactor(defaults);
        byte[] ip = segment("GET /1 HTTP/1.1\r\nCookie: a=1\r\n\r\nGET /2 HTTP/1.1\r\nCook", 1);
        long state = scan(r, ip, PayloadRedactor.MESSAGE_START);
        assertThat(PayloadRedactor.headOpen(state)).isTrue();
        byte[] next = segment("ie: b=2\r\n\r\n", 2);
        scan(r, next, state);
        assertThat(payload(ip) + payload(next))
                .isEqualTo("GET /1 HTTP/1.1\r\nCookie: ***\r\n\r\nGET /2 HTTP/1.1\r\nCookie: ***\r\n\r\n");
    }

    @Test
    void recognisesHttp1MessageStarts() {
        for (String yes : List.of("GET / HTTP/1.1", "POST /x", "M-SEARCH * HTTP/1.1", "HTTP/1.1 200 OK", "HTTP/1.0 404")) {
            byte[] b = yes.getBytes(StandardCharsets.ISO_8859_1);
            assertThat(PayloadRedactor.startsHttpMessage(b, 0, b.length)).as(yes).isTrue();
        }
        for (String no : List.of("PRI * HTTP/2.0", "get / HTTP/1.1", "GE", "\u0016\u0003\u0001", "*3\r\n$3\r\nSET",
                "HTTP/2 200", "ABCDEFGHIJKLMNOPQRSTUVWXYZ x")) {
            byte[] b = no.getBytes(StandardCharsets.ISO_8859_1);
            assertThat(PayloadRedactor.startsHttpMessage(b, 0, b.length)).as(no).isFalse();
        }
    }

    @Test
    void refusesWhatIsNotAHeaderName() {
        assertThatThrownBy(() -> new RedactionRules(List.of("Bad Name"), List.of()))
                .hasMessage("'Bad Name' is not an HTTP header name");
        assertThat(new RedactionRules(List.of("Cookie", "cookie", "X-Key"), List.of()).headers())
                .containsExactly("Cookie", "X-Key");
        assertThat(defaults.describe()).isEqualTo(
                "values of headers Authorization, Proxy-Authorization, Cookie, Set-Cookie");
    }

    private static long scan(PayloadRedactor r, byte[] ip, long state) {
        PacketView v = view(ip);
        return r.maskHeaders(ip, v.tcpOffset(), v.payloadOffset(), v.payloadLength(), state);
    }

    /** An IPv4 segment of {@code text} with a correct TCP checksum. */
    private static byte[] segment(String text, long seq) {
        byte[] ip = TestPackets.ipv4(new int[] {10, 0, 0, 2}, 40000, new int[] {10, 0, 0, 1}, 80, seq, 1,
                0x18, new byte[0], text.getBytes(StandardCharsets.ISO_8859_1));
        int c = checksum(ip);
        ip[36] = (byte) (c >>> 8);
        ip[37] = (byte) c;
        return ip;
    }

    private static PacketView view(byte[] ip) {
        PacketView v = new PacketView();
        assertThat(v.wrap(ip, 0, ip.length)).isEqualTo(PacketStatus.TCP);
        return v;
    }

    private static String payload(byte[] ip) {
        PacketView v = view(ip);
        return new String(ip, v.payloadOffset(), v.payloadLength(), StandardCharsets.ISO_8859_1);
    }

    /** The one's-complement sum over pseudo-header and segment, folded and inverted: 0 for a valid checksum. */
    private static int checksum(byte[] ip) {
        long sum = 0;
        for (int i = 12; i < 20; i += 2) {
            sum += ((ip[i] & 0xFF) << 8) | (ip[i + 1] & 0xFF);
        }
        sum += 6 + ip.length - 20;
        for (int i = 20; i < ip.length; i += 2) {
            sum += ((ip[i] & 0xFF) << 8) | (i + 1 < ip.length ? ip[i + 1] & 0xFF : 0);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }
}
