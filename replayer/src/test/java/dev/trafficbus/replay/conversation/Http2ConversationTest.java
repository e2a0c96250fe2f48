package dev.trafficbus.replay.conversation;

import dev.trafficbus.replay.conversation.Conversation.Verdict;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 answers on hand-built frames, fed in every split: complete when every stream the client finished has
 * ended (END_STREAM, RST_STREAM, a GOAWAY below it) or the client's window is used up; never by size.
 */
class Http2ConversationTest {
    private static final long MS = 1_000_000L;
    private static final long QUIET = 50 * MS;
    private static final long TIMEOUT = 10_000 * MS;
    private static final byte[] PREFACE = Http2Reader.PREFACE;

    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    static byte[] settings(int... idValue) {
        byte[] p = new byte[idValue.length * 3];
        for (int k = 0; k < idValue.length; k += 2) {
            int at = k * 3;
            p[at] = (byte) (idValue[k] >>> 8);
            p[at + 1] = (byte) idValue[k];
            p[at + 2] = (byte) (idValue[k + 1] >>> 24);
            p[at + 3] = (byte) (idValue[k + 1] >>> 16);
            p[at + 4] = (byte) (idValue[k + 1] >>> 8);
            p[at + 5] = (byte) idValue[k + 1];
        }
        return frame(Http2Reader.SETTINGS, 0, 0, p);
    }

    static byte[] int32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static final byte[] HEADER_BLOCK = {(byte) 0x82, (byte) 0x86, (byte) 0x84}; // :method GET, :scheme http, :path /
    static final byte[] SERVER_SETTINGS = settings(3, 100);
    static final byte[] SETTINGS_ACK = frame(Http2Reader.SETTINGS, 1, 0, new byte[0]);

    static byte[] get(int stream) {
        return frame(Http2Reader.HEADERS, 0x5, stream, HEADER_BLOCK);
    }

    static byte[] answer(int stream, int body) {
        return cat(frame(Http2Reader.HEADERS, 0x4, stream, new byte[] {(byte) 0x88}),
                frame(Http2Reader.DATA, 0, stream, new byte[body]), frame(Http2Reader.DATA, 1, stream, new byte[0]));
    }

    /** {@code answer} in every split completes the message at its last byte, not before, whatever the size said. */
    static void assertFramedAtLastByte(byte[] greeting, byte[] message, byte[] answer) {
        for (int cut = 0; cut <= answer.length; cut++) {
            Conversation c = new Conversation(QUIET, TIMEOUT);
            if (greeting != null) {
                c.awaitGreeting(0);
                c.received(greeting, 0, greeting.length, 0);
            }
            c.sent(message, 0, message.length, 0);
            byte[] most = Arrays.copyOf(answer, answer.length - 1);
            if (cut == 0 || cut >= most.length) {
                c.received(most, 0, most.length, MS);
            } else {
                c.received(most, 0, cut, MS);
                c.received(most, cut, most.length - cut, MS);
            }
            assertThat(c.judge(5_000 * MS, most.length, true)).as("cut %d", cut).isEqualTo(Verdict.WAIT);
            c.received(answer, answer.length - 1, 1, 5_001 * MS);
            assertThat(c.judge(5_001 * MS, 1, true)).as("cut %d", cut).isEqualTo(Verdict.ANSWERED);
            assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
            assertThat(c.protocol()).isEqualTo("http2");
        }
    }

    @Test
    void streamsAreAnsweredAtTheirEndStreamInAnyOrder() {
        byte[] message = cat(PREFACE, settings(4, 1 << 20), get(1), get(3));
        assertFramedAtLastByte(null, message, cat(SERVER_SETTINGS, SETTINGS_ACK, answer(3, 700), answer(1, 30)));
        // A server whose SETTINGS came before the client's preface (gRPC's does).
        assertFramedAtLastByte(SERVER_SETTINGS, message, cat(SETTINGS_ACK, answer(1, 30), answer(3, 700)));
    }

    @Test
    void aResetOrAGoAwayEndsTheStreamsItCloses() {
        byte[] message = cat(PREFACE, settings(), get(1), get(3), get(5));
        byte[] rst = frame(Http2Reader.RST_STREAM, 0, 3, int32(8));
        byte[] goAway = frame(Http2Reader.GOAWAY, 0, 0, cat(int32(1), int32(0)));
        assertFramedAtLastByte(null, message, cat(SERVER_SETTINGS, rst, answer(1, 10), answer(5, 2)));
        assertFramedAtLastByte(null, message, cat(SERVER_SETTINGS, answer(1, 10), goAway));
    }

    @Test
    void streamsTheTargetResetsOrRefusesAreCountedButNotThoseTheClientCancels() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        byte[] message = cat(PREFACE, settings(), get(1), get(3), get(5), get(7),
                frame(Http2Reader.RST_STREAM, 0, 5, int32(8))); // the captured client cancels stream 5 itself
        c.sent(message, 0, message.length, 0);
        byte[] answers = cat(SERVER_SETTINGS, answer(1, 10), frame(Http2Reader.RST_STREAM, 0, 3, int32(2)),
                frame(Http2Reader.GOAWAY, 0, 0, cat(int32(3), int32(0))));
        c.received(answers, 0, answers.length, MS);
        assertThat(c.judge(MS, answers.length, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.streamsResetByTarget()).as("stream 3 reset, stream 7 refused").isEqualTo(2);
        // A reset after the answer's END_STREAM ends nothing that was owed.
        byte[] late = frame(Http2Reader.RST_STREAM, 0, 1, int32(0));
        c.received(late, 0, late.length, 2 * MS);
        assertThat(c.streamsResetByTarget()).isEqualTo(2);
    }

    @Test
    void aMessageWhoseEveryStreamTheTargetResetsOrRefusesIsNotAnswered() {
        // Both streams of the message reset by the server: frames came back, no request got its answer.
        Conversation c = new Conversation(QUIET, TIMEOUT);
        byte[] message = cat(PREFACE, settings(), get(1), get(3));
        c.sent(message, 0, message.length, 0);
        byte[] resets = cat(SERVER_SETTINGS, frame(Http2Reader.RST_STREAM, 0, 1, int32(7)),
                frame(Http2Reader.RST_STREAM, 0, 3, int32(7)));
        c.received(resets, 0, resets.length, MS);
        assertThat(c.judge(MS, resets.length, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        assertThat(c.answered()).isFalse();
        assertThat(c.everyStreamRefused()).isTrue();

        // One stream answered, one reset: the message is answered, the reset is counted apart.
        message = cat(get(5), get(7));
        c.sent(message, 0, message.length, 2 * MS);
        byte[] mixed = cat(answer(5, 10), frame(Http2Reader.RST_STREAM, 0, 7, int32(7)));
        c.received(mixed, 0, mixed.length, 3 * MS);
        assertThat(c.judge(3 * MS, mixed.length, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.answered()).as("stream 5 answered").isTrue();
        assertThat(c.everyStreamRefused()).isFalse();

        // After the server's GOAWAY (last stream 7) a request opens stream 9: refused, though a frame comes back.
        message = get(9);
        c.sent(message, 0, message.length, 4 * MS);
        byte[] goAway = frame(Http2Reader.GOAWAY, 0, 0, cat(int32(7), int32(0)));
        c.received(goAway, 0, goAway.length, 5 * MS);
        assertThat(c.judge(5 * MS, goAway.length, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.answered()).as("stream 9 refused by the GOAWAY").isFalse();
        assertThat(c.streamsResetByTarget()).as("streams 1, 3, 7 reset, 9 refused").isEqualTo(4);
    }

    @Test
    void aServerStoppedByTheClientsWindowHasAnsweredAllItCan() {
        byte[] post = cat(PREFACE, settings(4, 100), frame(Http2Reader.HEADERS, 0x5, 1, HEADER_BLOCK));
        byte[] full = cat(SERVER_SETTINGS, frame(Http2Reader.HEADERS, 0x4, 1, new byte[] {(byte) 0x88}),
                frame(Http2Reader.DATA, 0, 1, new byte[60]), frame(Http2Reader.DATA, 0, 1, new byte[40]));
        assertFramedAtLastByte(null, post, full);
        // The client's WINDOW_UPDATE opens it again: the rest of the answer is awaited.
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(post, 0, post.length, 0);
        c.received(full, 0, full.length, 0);
        assertThat(c.judge(MS, 1, true)).isEqualTo(Verdict.ANSWERED);
        byte[] update = frame(Http2Reader.WINDOW_UPDATE, 0, 1, int32(1000));
        c.sent(update, 0, update.length, 2 * MS);
        assertThat(c.judge(3 * MS, 1, true)).isEqualTo(Verdict.WAIT);
        byte[] rest = frame(Http2Reader.DATA, 1, 1, new byte[5]);
        c.received(rest, 0, rest.length, 4 * MS);
        assertThat(c.judge(4 * MS, 1, true)).isEqualTo(Verdict.ANSWERED);
    }

    @Test
    void anUpgradeToH2cIsAnsweredBy101ThenStreamOneIsAwaited() {
        String upgrade = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
        byte[] switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        Conversation c = new Conversation(QUIET, TIMEOUT);
        byte[] u = upgrade.getBytes(StandardCharsets.ISO_8859_1);
        c.sent(u, 0, u.length, 0);
        byte[] first = cat(switching, SERVER_SETTINGS);
        c.received(first, 0, first.length, MS);
        assertThat(c.judge(MS, 5000, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.protocol()).isEqualTo("http2");
        byte[] preface = cat(PREFACE, settings(), SETTINGS_ACK);
        c.sent(preface, 0, preface.length, 2 * MS);
        assertThat(c.judge(3_000 * MS, 10, true)).as("stream 1 still open").isEqualTo(Verdict.WAIT);
        byte[] one = answer(1, 50);
        c.received(one, 0, one.length, 3_001 * MS);
        assertThat(c.judge(3_001 * MS, 10, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
    }

    @Test
    void aServerAnsweringHttp1ToThePrefaceLeavesFramingToTheSize() {
        byte[] message = cat(PREFACE, settings(), get(1));
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(message, 0, message.length, 0);
        byte[] refusal = "HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        c.received(refusal, 0, refusal.length, MS);
        assertThat(c.protocol()).isEqualTo("other");
        assertThat(c.judge(MS, refusal.length, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.SIZE);
    }
}
