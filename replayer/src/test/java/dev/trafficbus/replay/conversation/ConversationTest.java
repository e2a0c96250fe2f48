package dev.trafficbus.replay.conversation;

import dev.trafficbus.replay.conversation.Conversation.Verdict;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The answer rules on hand-built byte streams, every answer fed in every split (one piece, byte by byte, and
 * cut at each position): framing decides for HTTP/1.x and RESP whatever the captured size, the size and
 * silence only for other protocols.
 */
class ConversationTest {
    private static final long MS = 1_000_000L;
    private static final long QUIET = 50 * MS;
    private static final long TIMEOUT = 10_000 * MS;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Feeds {@code answer} in pieces cut at {@code cut} (0: whole; 1: byte by byte; else two pieces at cut). */
    private static void feed(Conversation c, byte[] answer, int cut, long now) {
        if (cut == 0) {
            c.received(answer, 0, answer.length, now);
        } else if (cut == 1) {
            for (int i = 0; i < answer.length; i++) {
                c.received(answer, i, 1, now);
            }
        } else {
            int at = Math.min(cut, answer.length);
            c.received(answer, 0, at, now);
            c.received(answer, at, answer.length - at, now);
        }
    }

    /** True when the answer is complete by framing exactly at its last byte, in every split. */
    private static void assertFramedAtLastByte(String request, String answer) {
        byte[] a = b(answer);
        for (int cut = 0; cut <= a.length; cut++) {
            Conversation c = new Conversation(QUIET, TIMEOUT);
            c.sent(b(request), 0, request.length(), 0);
            // Everything but the last byte: not complete, even long after (a pause mid-answer).
            byte[] most = java.util.Arrays.copyOf(a, a.length - 1);
            feed(c, most, cut, MS);
            assertThat(c.judge(5_000 * MS, 3, true)).as("cut %d", cut).isEqualTo(Verdict.WAIT);
            c.received(a, a.length - 1, 1, 5_001 * MS);
            assertThat(c.judge(5_001 * MS, 3, true)).as("cut %d", cut).isEqualTo(Verdict.ANSWERED);
            assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        }
    }

    @Test
    void contentLengthChunkedWithTrailersAndBodilessAnswersEndByFraming() {
        assertFramedAtLastByte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Long: " + "y".repeat(300) + "\r\n\r\nhello world");
        assertFramedAtLastByte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\n"
                        + "abcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n");
        assertFramedAtLastByte("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
        assertFramedAtLastByte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n");
        assertFramedAtLastByte("GET /a HTTP/1.1\r\nIf-None-Match: \"e\"\r\n\r\n",
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
        // An interim 103 before the final answer is not the answer.
        assertFramedAtLastByte("GET /a HTTP/1.1\r\n\r\n",
                "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }

    @Test
    void headsSplitAcrossMessagesOfSessionsOnOneThreadKeepTheirOwnFirstLines() {
        // Sessions on one thread read heads with the same buffers: a head cut between two messages must come out
        // whole, whatever the other session read in between.
        Conversation head = new Conversation(QUIET, TIMEOUT);
        Conversation get = new Conversation(QUIET, TIMEOUT);
        String h = "HEAD /alpha HTTP/1.1\r\nHost: x\r\n\r\n";
        String g = "GET /beta HTTP/1.1\r\nHost: y\r\n\r\n";
        head.sent(b(h), 0, 8, 0);
        get.sent(b(g), 0, 22, 0);
        head.sent(b(h), 8, h.length() - 8, MS);
        get.sent(b(g), 22, g.length() - 22, MS);
        assertThat(head.endpoint()).isEqualTo("HEAD /alpha");
        assertThat(get.endpoint()).isEqualTo("GET /beta");
        // The answer to HEAD has no body, whatever its Content-Length says: HEAD was read from the cut head.
        byte[] toHead = b("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
        byte[] toGet = b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        for (int i = 0; i < Math.max(toHead.length, toGet.length); i++) {
            if (i < toHead.length) {
                head.received(toHead, i, 1, 2 * MS);
            }
            if (i < toGet.length) {
                get.received(toGet, i, 1, 2 * MS);
            }
        }
        assertThat(head.judge(2 * MS, 0, false)).isEqualTo(Verdict.ANSWERED);
        assertThat(head.judgement()).isEqualTo(Judgement.FRAMING);
        assertThat(get.judge(2 * MS, 0, false)).isEqualTo(Verdict.ANSWERED);
        assertThat(get.judgement()).isEqualTo(Judgement.FRAMING);
    }

    @Test
    void pipelinedRequestsAreAnsweredOneResponseEach() {
        String three = "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        assertFramedAtLastByte(three, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                + "HTTP/1.1 200 OK\r\nContent-Length: 700\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    }

    @Test
    void answerOfAnotherSizeThanCapturedEndsWithoutWaitingForSilence() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(b("GET / HTTP/1.1\r\n\r\n"), 0, 18, 0);
        byte[] a = b("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
        c.received(a, 0, a.length, MS);
        assertThat(c.judge(MS, 100_000, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        assertThat(c.answerNanos()).isEqualTo(MS);
        assertThat(c.endpoint()).isEqualTo("GET /");
    }

    @Test
    void expectContinueWaitsForTheHundredThenTheFinalAnswer() {
        // Headers alone (the client waited for 100 Continue): the 100 ends this wait.
        Conversation c = new Conversation(QUIET, TIMEOUT);
        String head = "PUT /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
        c.sent(b(head), 0, head.length(), 0);
        assertThat(c.judge(MS, 25, true)).isEqualTo(Verdict.WAIT);
        byte[] cont = b("HTTP/1.1 100 Continue\r\n\r\n");
        c.received(cont, 0, cont.length, MS);
        assertThat(c.judge(MS, 25, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        // The body: its answer is the final response, not another 100.
        c.sent(b("data"), 0, 4, 2 * MS);
        assertThat(c.judge(3 * MS, 0, false)).isEqualTo(Verdict.WAIT);
        byte[] fin = b("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        c.received(fin, 0, fin.length, 4 * MS);
        assertThat(c.judge(4 * MS, 0, false)).isEqualTo(Verdict.ANSWERED);

        // Head and body in one message (the client did not wait): the 100 is not the answer.
        assertFramedAtLastByte(head + "data", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

        // Refused before the body: the final answer ends the wait for the headers.
        Conversation r = new Conversation(QUIET, TIMEOUT);
        r.sent(b(head), 0, head.length(), 0);
        byte[] no = b("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
        r.received(no, 0, no.length, MS);
        assertThat(r.judge(MS, 25, true)).isEqualTo(Verdict.ANSWERED);
    }

    @Test
    void closeDelimitedBodyEndsAtTheClose() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(b("GET / HTTP/1.0\r\n\r\n"), 0, 18, 0);
        byte[] a = b("HTTP/1.0 200 OK\r\n\r\nall of it");
        c.received(a, 0, a.length, MS);
        assertThat(c.judge(MS + 10 * MS, 9, true)).isEqualTo(Verdict.WAIT);
        c.closed(12 * MS);
        assertThat(c.judge(12 * MS, 9, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
    }

    @Test
    void aWebSocketUpgradeIsAnsweredByTheSwitchThenFramesAreJudgedByFramingAndCounted() {
        WebSocketCounts counts = new WebSocketCounts();
        Conversation c = new Conversation(QUIET, TIMEOUT, null, counts);
        String up = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        c.sent(b(up), 0, up.length(), 0);
        // The 101 and the server's first frame in one read: the frame is read as a frame, not as HTTP.
        byte[] a = concat(b("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"), new byte[] {(byte) 0x81, 1, 'w'});
        c.received(a, 0, a.length, MS);
        assertThat(c.judge(MS, a.length + 10, false)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        assertThat(c.protocol()).isEqualTo("websocket");
        assertThat(counts.sessions()).isEqualTo(1);
        assertThat(counts.frames(false, "text")).isEqualTo(1);

        // A masked client text frame "hi": sent with a fresh key, the payload still "hi" under it.
        byte[] key = {1, 2, 3, 4};
        byte[] frame = {(byte) 0x81, (byte) 0x82, key[0], key[1], key[2], key[3], (byte) ('h' ^ 1), (byte) ('i' ^ 2)};
        c.prepare(frame, 0, frame.length);
        assertThat(new byte[] {frame[2], frame[3], frame[4], frame[5]}).as("a fresh masking key (2^-32: the same)")
                .isNotEqualTo(key);
        assertThat(new byte[] {(byte) (frame[6] ^ frame[2]), (byte) (frame[7] ^ frame[3])}).isEqualTo(b("hi"));
        c.sent(frame, 0, frame.length, 2 * MS);
        assertThat(c.endpoint()).isEqualTo("WS /chat");
        // The echo arrives in two reads: complete only once its frame is whole.
        byte[] echo = {(byte) 0x81, 2, 'h', 'i'};
        c.received(echo, 0, 3, 3 * MS);
        assertThat(c.judge(3 * MS, 3, false)).isEqualTo(Verdict.WAIT);
        c.received(echo, 3, 1, 4 * MS);
        assertThat(c.judge(4 * MS, 4, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);

        // A frame production did not answer needs no wait.
        byte[] ping = {(byte) 0x89, (byte) 0x80, 9, 9, 9, 9};
        c.prepare(ping, 0, ping.length);
        c.sent(ping, 0, ping.length, 5 * MS);
        assertThat(c.judge(5 * MS, 0, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(counts.frames(true, "text")).isEqualTo(1);
        assertThat(counts.frames(true, "ping")).isEqualTo(1);
        assertThat(counts.frames(false, "text")).isEqualTo(2);
    }

    @Test
    void anotherUpgradeIsAnsweredByTheSwitchThenBytesPassAndAreJudgedBySize() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        String up = "GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n";
        c.sent(b(up), 0, up.length(), 0);
        byte[] a = b("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n");
        c.received(a, 0, a.length, MS);
        assertThat(c.judge(MS, a.length, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        byte[] bytes = {0, 0, 4, 8, 0, 0, 0, 0, 0};
        c.sent(bytes, 0, bytes.length, 2 * MS);
        c.received(bytes, 0, 4, 3 * MS);
        assertThat(c.judge(3 * MS, 4, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.SIZE);
        assertThat(c.protocol()).isEqualTo("other");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void respPipelinedCommandsAreAnsweredOneReplyEachWithNestedAndResp3Types() {
        String cmds = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
                + "*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n*1\r\n$5\r\nHELLO\r\n";
        String replies = "+OK\r\n$5\r\nhello\r\n-ERR wrong\r\n*2\r\n*1\r\n:1\r\n$-1\r\n"
                + "|1\r\n+ttl\r\n:3\r\n>2\r\n+pubsub\r\n+x\r\n%2\r\n+a\r\n#t\r\n+b\r\n~2\r\n,1.5\r\n_\r\n";
        assertFramedAtLastByte(cmds, replies);
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(b(cmds), 0, cmds.length(), 0);
        assertThat(c.endpoint()).isEqualTo("SET");
        assertThat(c.protocol()).isEqualTo("resp");
    }

    @Test
    void unknownProtocolUsesCapturedSizeThenSilenceThenTimeout() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        byte[] m = {0x16, 3, 1, 0};
        c.sent(m, 0, 4, 0);
        c.received(new byte[10], 0, 10, MS);
        assertThat(c.judge(MS, 10, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.SIZE);

        c.sent(m, 0, 4, 10 * MS);
        c.received(new byte[3], 0, 3, 11 * MS);
        assertThat(c.judge(20 * MS, 10, true)).isEqualTo(Verdict.WAIT);
        assertThat(c.wakeAt()).isEqualTo(11 * MS + QUIET);
        assertThat(c.judge(11 * MS + QUIET, 10, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.SILENCE);

        c.sent(m, 0, 4, 100 * MS);
        assertThat(c.judge(100 * MS + TIMEOUT, 10, true)).isEqualTo(Verdict.TIMED_OUT);
        assertThat(c.judgement()).isEqualTo(Judgement.TIMEOUT);
    }

    @Test
    void answersNotSeenFallBackToSize() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(b("GET / HTTP/1.1\r\n\r\n"), 0, 18, 0);
        c.receivedUnseen(40, MS);
        assertThat(c.judge(MS, 40, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.SIZE);
    }

    @Test
    void closeWithoutAnswerIsUnansweredUnlessProductionAnsweredNothing() {
        Conversation c = new Conversation(QUIET, TIMEOUT);
        c.sent(b("GET / HTTP/1.1\r\n\r\n"), 0, 18, 0);
        c.closed(MS);
        assertThat(c.judge(MS, 100, true)).isEqualTo(Verdict.CLOSED_UNANSWERED);
        Conversation d = new Conversation(QUIET, TIMEOUT);
        d.sent(b("GET / HTTP/1.1\r\n\r\n"), 0, 18, 0);
        d.closed(MS);
        assertThat(d.judge(MS, 0, true)).isEqualTo(Verdict.ANSWERED);
        assertThat(d.judgement()).isEqualTo(Judgement.CLOSE);
    }

    @Test
    void aMessageCompletingNoCommandHasNothingToWaitFor() {
        // Pipelined commands cut mid-command by the capture's message boundary: the first part completes one
        // command, the second only a part of the next, the third the rest.
        Conversation c = new Conversation(QUIET, TIMEOUT);
        String all = "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        c.sent(b(all), 0, 18, 0);
        c.received(b("+PONG\r\n"), 0, 7, MS);
        assertThat(c.judge(MS, 7, true)).isEqualTo(Verdict.ANSWERED);
        c.sent(b(all), 18, 10, 2 * MS);
        assertThat(c.judge(2 * MS, 7, true)).as("half a command: no reply can come").isEqualTo(Verdict.ANSWERED);
        assertThat(c.judgement()).isEqualTo(Judgement.FRAMING);
        c.sent(b(all), 28, all.length() - 28, 3 * MS);
        assertThat(c.judge(3 * MS, 7, true)).isEqualTo(Verdict.WAIT);
        c.received(b("$-1\r\n"), 0, 5, 4 * MS);
        assertThat(c.judge(4 * MS, 7, true)).isEqualTo(Verdict.ANSWERED);
        // Before any whole request is seen the protocol is not confirmed: the size rule waits.
        Conversation d = new Conversation(QUIET, TIMEOUT);
        d.sent(b("GET /a-very-long"), 0, 16, 0);
        assertThat(d.judge(MS, 20, true)).isEqualTo(Verdict.WAIT);
    }

    @Test
    void endpointTemplatesReplaceIdentifiers() {
        assertThat(name("GET /users/42/orders?x=1 HTTP/1.1")).isEqualTo("GET /users/{id}/orders");
        assertThat(name("DELETE /v2/items/123e4567-e89b-12d3-a456-426614174000 HTTP/1.1"))
                .isEqualTo("DELETE /v2/items/{id}");
        assertThat(name("GET http://host:8080/a/9f86d081884c7d659a2feaa0c55ad015 HTTP/1.1")).isEqualTo("GET /a/{id}");
        assertThat(name("GET /api/items?page=1 HTTP/1.1")).isEqualTo("GET /api/items");
        assertThat(name("OPTIONS * HTTP/1.1")).isEqualTo("OPTIONS *");
    }

    private static String name(String line) {
        byte[] l = b(line);
        return EndpointNames.http(l, l.length);
    }
}
