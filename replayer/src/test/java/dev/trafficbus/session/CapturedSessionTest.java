package dev.trafficbus.session;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CapturedSessionTest {
    private static final String REQ1 = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String REQ2 = "GET /two HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String RESP1 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none";
    private static final String RESP2 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo";

    private final RecordedEvents events = new RecordedEvents();
    private final CapturedSession session = new CapturedSession(events);

    private Conversation conversation() {
        return new Conversation("10.0.0.2", 40000, "10.0.0.1", 80, 1_000, 50_000, 1_000_000);
    }

    private void feed(List<Conversation.Packet> packets) {
        for (Conversation.Packet p : packets) {
            if (p.clientToServer()) {
                session.clientPacket(p.view(), p.tsMicros());
            } else {
                session.serverPacket(p.view(), p.tsMicros());
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void serverDataSplitsMessagesAndGivesTheExpectedAnswerSize() {
        Conversation c = conversation().handshake()
                .clientSends(REQ1).serverSends(bytes(RESP1), 20)
                .clientSends(REQ2).serverSends(bytes(RESP2), 1460)
                .clientFin().serverFin().clientAck();
        feed(c.packets());
        assertThat(events.messages).containsExactly(REQ1, REQ2);
        assertThat(events.settled).containsEntry(-1, 0L)
                .containsEntry(0, (long) RESP1.length()).containsEntry(1, (long) RESP2.length());
        assertThat(events.end.how()).isEqualTo(SessionEnd.How.CLOSED);
        assertThat(events.end.synSeen()).isTrue();
        assertThat(events.end.clientClosed()).isTrue();
        assertThat(events.end.serverClosed()).isTrue();
        assertThat(events.end.gaps()).isZero();
    }

    @Test
    void withoutServerPacketsTheAckAdvanceSplitsMessagesAndSizesAnswers() {
        Conversation c = conversation().handshake()
                .clientSends(REQ1).serverSendsNotCaptured(120)
                .clientSends(REQ2).serverSendsNotCaptured(75)
                .clientFin();
        List<Conversation.Packet> clientOnly = c.packets().stream().filter(Conversation.Packet::clientToServer).toList();
        feed(clientOnly);
        assertThat(events.messages).containsExactly(REQ1, REQ2);
        assertThat(events.settled).containsEntry(0, 120L);
        session.finish(SessionEnd.How.END_OF_INPUT);
        assertThat(events.settled).containsEntry(1, 75L);
        assertThat(events.end.how()).isEqualTo(SessionEnd.How.END_OF_INPUT);
    }

    @Test
    void aMessageSentInSeveralSegmentsStaysOneMessage() {
        byte[] body = new byte[5000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        String post = "POST /upload HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + new String(body, StandardCharsets.ISO_8859_1);
        Conversation c = conversation().handshake().clientSends(bytes(post), 1000).serverSends(bytes(RESP1), 1460)
                .clientFin().serverFin();
        feed(c.packets());
        assertThat(events.messages).containsExactly(post);
        assertThat(events.timestamps.get(0)).isEqualTo(c.packets().get(3).tsMicros());
    }

    @Test
    void reorderedAndDuplicatedSegmentsOfOneMessageAreRebuilt() {
        String post = "POST /x HTTP/1.1\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz";
        Conversation c = conversation().handshake().clientSends(bytes(post), 10).serverSends(bytes(RESP1), 1460);
        List<Conversation.Packet> p = new ArrayList<>(c.packets());
        // segments are p[3..9]; swap two, and repeat one
        Collections.swap(p, 4, 6);
        p.add(6, p.get(5));
        feed(p);
        assertThat(events.messages).containsExactly(post);
        session.finish(SessionEnd.How.END_OF_INPUT);
        assertThat(events.end.gaps()).isZero();
    }

    @Test
    void aRetransmissionWithANewerAckIsNotANewMessage() {
        Conversation c = conversation().handshake().clientSends(REQ1);
        Conversation.Packet request = c.packets().get(3);
        c.serverSends(bytes(RESP1), 1460);
        List<Conversation.Packet> clientOnly = new ArrayList<>(c.packets().stream()
                .filter(Conversation.Packet::clientToServer).toList());
        // The same request bytes again, as a retransmission after the answer came (ACK moved on).
        byte[] retransmit = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 80, request.view().seq(),
                request.view().ackNumber() + RESP1.length(), 0x18, bytes(REQ1));
        clientOnly.add(new Conversation.Packet(true, retransmit, request.tsMicros() + 300_000));
        feed(clientOnly);
        session.finish(SessionEnd.How.END_OF_INPUT);
        assertThat(events.messages).containsExactly(REQ1);
    }

    @Test
    void aCaptureStartingMidConnectionReplaysFromTheFirstCapturedByte() {
        Conversation c = conversation().handshakeNotCaptured()
                .clientSends("GET /lost HTTP/1.1\r\n\r\n").serverSends(bytes(RESP1), 1460);
        int seen = c.packets().size();
        c.after(1000).clientSends(REQ2).serverSends(bytes(RESP2), 1460).clientFin().serverFin();
        feed(c.packets().subList(seen, c.packets().size()));
        assertThat(events.messages).containsExactly(REQ2);
        assertThat(events.settled).containsEntry(-1, 0L).containsEntry(0, (long) RESP2.length());
        assertThat(events.end.midConnection()).isTrue();
        assertThat(events.end.gaps()).isZero();
    }

    @Test
    void aLostSegmentIsAGapOnceTheNextMessageShowsUp() {
        Conversation c = conversation().handshake()
                .clientSends(bytes("GET /a HTTP/1.1\r\nX: 1234567890\r\n\r\n"), 10)
                .serverSendsNotCaptured(40).clientSends(REQ2).serverSendsNotCaptured(40).clientFin();
        List<Conversation.Packet> p = new ArrayList<>(c.packets().stream().filter(Conversation.Packet::clientToServer).toList());
        p.remove(3); // the second segment of the first request: never captured
        feed(p);
        assertThat(events.messages).hasSize(2);
        assertThat(events.messages.get(0)).isEqualTo("GET /a HTT" + "1234567890\r\n\r\n");
        assertThat(events.messages.get(1)).isEqualTo(REQ2);
        session.finish(SessionEnd.How.END_OF_INPUT);
        assertThat(events.end.gaps()).isEqualTo(1);
        assertThat(events.end.gapBytes()).isEqualTo(10);
        assertThat(events.end.incomplete()).isTrue();
    }

    @Test
    void theAnswerToALostMessageIsNotExpectedFromThePreviousOne() {
        Conversation c = conversation().handshake().clientSends(REQ1).serverSends(bytes(RESP1), 1460);
        int lost = c.packets().size();
        c.clientSends("GET /lost HTTP/1.1\r\n\r\n").serverSends(bytes("HTTP/1.1 404 Not Found\r\n\r\n"), 1460)
                .clientSends(REQ2).serverSends(bytes(RESP2), 1460).clientFin().serverFin();
        List<Conversation.Packet> p = new ArrayList<>(c.packets());
        p.remove(lost);
        feed(p);
        assertThat(events.messages).containsExactly(REQ1, REQ2);
        assertThat(events.settled).containsEntry(0, (long) RESP1.length()).containsEntry(1, (long) RESP2.length());
        assertThat(events.end.gaps()).isEqualTo(1);
    }

    @Test
    void theServersAckDeclaresBytesTheCaptureMissed() {
        Conversation c = conversation().handshake().clientSends(bytes("0123456789abcdefghij"), 10)
                .serverSends(bytes(RESP1), 1460);
        List<Conversation.Packet> p = new ArrayList<>(c.packets());
        p.remove(3); // first data segment lost by the capture
        feed(p);
        assertThat(events.messages).containsExactly("abcdefghij");
        assertThat(events.settled).doesNotContainKey(0);
        session.finish(SessionEnd.How.END_OF_INPUT);
        assertThat(events.end.gaps()).isEqualTo(1);
        assertThat(events.settled).containsEntry(0, (long) RESP1.length());
    }

    @Test
    void theClientsFinCompletesTheLastMessageBeforeTheAnswerIsCaptured() {
        Conversation c = conversation().handshake().clientSends(REQ1).clientFin();
        feed(c.packets());
        assertThat(events.messages).containsExactly(REQ1);
        assertThat(events.end).isNull();
        c.serverSends(bytes(RESP1), 1460).serverFin();
        List<Conversation.Packet> rest = c.packets().subList(5, c.packets().size());
        feed(rest);
        assertThat(events.end.how()).isEqualTo(SessionEnd.How.CLOSED);
        assertThat(events.settled).containsEntry(0, (long) RESP1.length());
    }

    @Test
    void aResetEndsTheSession() {
        Conversation c = conversation().handshake().clientSends(REQ1).clientRst();
        feed(c.packets());
        assertThat(events.messages).containsExactly(REQ1);
        assertThat(events.end.how()).isEqualTo(SessionEnd.How.RESET);
        assertThat(events.end.clientReset()).isTrue();
        assertThat(session.ended()).isTrue();
    }

    @Test
    void aServerGreetingIsTheAnswerBeforeTheFirstMessage() {
        Conversation c = conversation().handshake().serverSends(bytes("220 smtp ready\r\n"), 1460)
                .clientSends("EHLO x\r\n").serverSends(bytes("250 ok\r\n"), 1460).clientFin().serverFin();
        feed(c.packets());
        assertThat(events.messages).containsExactly("EHLO x\r\n");
        assertThat(events.settled).containsEntry(-1, 16L).containsEntry(0, 8L);
    }

    @Test
    void idleFlushCompletesTheMessageInProgress() {
        Conversation c = conversation().handshake().clientSends(REQ1);
        feed(c.packets());
        assertThat(events.messages).isEmpty();
        session.idleFlush();
        assertThat(events.messages).containsExactly(REQ1);
        assertThat(session.ended()).isFalse();
    }

    @Test
    void sequenceWraparoundInsideASession() {
        Conversation c = new Conversation("10.0.0.2", 40000, "10.0.0.1", 80, 0xFFFF_FFF0L, 0xFFFF_FFFFL, 0)
                .handshake().clientSends(bytes(REQ1), 8).serverSends(bytes(RESP1), 7)
                .clientSends(bytes(REQ2), 9).serverSends(bytes(RESP2), 1460).clientFin().serverFin();
        feed(c.packets());
        assertThat(events.messages).containsExactly(REQ1, REQ2);
        assertThat(events.settled).containsEntry(0, (long) RESP1.length()).containsEntry(1, (long) RESP2.length());
        assertThat(events.end.gaps()).isZero();
    }
}
