package dev.trafficbus.replay.tcp;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.intake.EngineContext;
import dev.trafficbus.replay.intake.OffsetLedger;
import dev.trafficbus.replay.intake.ReplayClock;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.TcpSeq;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tcp session state machine driven packet by packet: what the engine sends is recorded instead of going to
 * a raw socket, and the test server's side is played with hand-built segments, as intercept would relay them.
 */
@Timeout(30)
class TcpSessionTest {
    private static final byte[] TARGET = {10, (byte) 201, 1, 2};
    private static final SessionEnd CLOSED = new SessionEnd(SessionEnd.How.CLOSED, true, true, false, true, false, 1, 0, 0);

    private final LinkedBlockingQueue<byte[]> sent = new LinkedBlockingQueue<>();
    private final ReplayCounters counters = new ReplayCounters();
    private final SegmentWriter server = new SegmentWriter();
    private TcpEngine engine;
    private int clientPorts = 40000;

    /** One segment the engine sent. */
    record Seg(byte[] src, int srcPort, long seq, long ack, int flags, int window, int len) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private TcpEngine engine(ReplayTuning tuning, ClientEndpoints endpoints) throws Exception {
        TcpEngineOptions tcp = TcpEngineOptions.of("10.99.0.0/16", List.of("127.0.0.1"), null, 0);
        tcp.handshakeTimeout = Duration.ofSeconds(5);
        tcp.idleTimeout = Duration.ofSeconds(20);
        PacketOutput out = new PacketOutput() {
            @Override
            public boolean send(byte[] packet, int len) {
                sent.add(java.util.Arrays.copyOf(packet, len));
                return true;
            }

            @Override
            public void close() {
            }
        };
        InetSocketAddress target = new InetSocketAddress(InetAddress.getByAddress(TARGET), 80);
        ReplayRequest request = new ReplayRequest("tb.capture.unit", new Properties(), target, ReplaySpeed.MAX, null,
                true, false);
        EngineContext ctx = new EngineContext(request, tuning, ReplayOptions.defaults(), counters,
                new ReplayClock(ReplaySpeed.MAX), new OffsetLedger(), null);
        engine = new TcpEngine(ctx, tcp, endpoints, out);
        return engine;
    }

    private TcpEngine engine() throws Exception {
        return engine(ReplayTuning.defaults(), new ClientEndpoints(ClientRange.parse("10.99.0.0/16"), 0, 60_000_000_000L));
    }

    /** A captured session, as the consumer thread would open it. */
    private SessionEvents open() throws Exception {
        return engine.open(FlowKey.of(InetAddress.getByAddress(TARGET), 80, InetAddress.getByName("192.0.2.7"),
                clientPorts++), 0, 0);
    }

    private Seg next() throws InterruptedException {
        byte[] p = sent.poll(5, TimeUnit.SECONDS);
        assertThat(p).as("a segment from the engine within 5 s").isNotNull();
        return parse(p);
    }

    private Seg nextWithin(long millis) throws InterruptedException {
        byte[] p = sent.poll(millis, TimeUnit.MILLISECONDS);
        return p == null ? null : parse(p);
    }

    private static Seg parse(byte[] p) {
        PacketView v = new PacketView();
        assertThat(v.wrap(p, 0, p.length)).isEqualTo(PacketStatus.TCP);
        byte[] src = java.util.Arrays.copyOfRange(p, v.srcAddressOffset(), v.srcAddressOffset() + 4);
        return new Seg(src, v.srcPort(), v.seq(), v.ackNumber(), v.flags(), v.window(), v.payloadLength());
    }

    /** The test server sends a segment to the client endpoint of {@code to}, relayed headers only. */
    private void fromServer(Seg to, long seq, long ack, int flags, int window, int payloadLen, int options) throws Exception {
        byte[] copy = segment(to, seq, ack, flags, window, payloadLen, options);
        engine.loop.submit(() -> engine.onRelayed(copy, 0, copy.length)).get();
    }

    /** A session of one request that the server answers in 7 bytes, then the client's close; returns the request. */
    private Seg answeredThenClosed(String request, long serverIss) throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, bytes(request), 0);
        s.expectedResponse(0, 7, true);
        s.end(CLOSED);
        engine.flush();
        return handshake(next(), serverIss, 65535);
    }

    /** A segment of the test server to the client endpoint of {@code to}, as intercept relays it. */
    private byte[] segment(Seg to, long seq, long ack, int flags, int window, int payloadLen, int options) {
        int n = server.write(TARGET, to.src(), 80, to.srcPort(), seq, ack, flags, window, options, 1460, 7,
                new byte[payloadLen], 0, payloadLen);
        return java.util.Arrays.copyOf(server.buffer(), n);
    }

    /**
     * Completes the handshake of the SYN just sent; returns the client's first segment after it, which
     * acknowledges the SYN-ACK: the first request when one can be sent at once, else a pure ACK.
     */
    private Seg handshake(Seg syn, long serverIss, int window) throws Exception {
        assertThat(syn.has(PacketView.SYN)).isTrue();
        fromServer(syn, serverIss, TcpSeq.add(syn.seq(), 1), PacketView.SYN | PacketView.ACK, window, 0,
                SegmentWriter.OPT_MSS);
        Seg first = next();
        assertThat(first.has(PacketView.ACK)).isTrue();
        assertThat(first.has(PacketView.SYN | PacketView.FIN | PacketView.RST)).isFalse();
        assertThat(first.ack()).isEqualTo(TcpSeq.add(serverIss, 1));
        return first;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void awaitDone(long sessions) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (counters.sessionsDone() < sessions && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
    }

    @Test
    void aServerThatAcksOurFinButNeverClosesIsResetAfterTheCloseWait() throws Exception {
        Seg data = answeredThenClosed("PING\r\n", 1000);
        assertThat(data.len()).isEqualTo(6);
        fromServer(data, 1001, TcpSeq.add(data.seq(), 6), PacketView.ACK | PacketView.PSH, 65535, 7, 0);
        Seg fin = next();
        assertThat(fin.has(PacketView.FIN)).isTrue();
        assertThat(fin.ack()).as("our FIN acknowledges the answer: it needs no ACK of its own").isEqualTo(1008);
        fromServer(fin, 1008, TcpSeq.add(fin.seq(), 1), PacketView.ACK, 65535, 0, 0); // FIN acked, no FIN back

        Seg rst = nextWithin(3_000);
        assertThat(rst).as("the test server's side is freed after the close wait").isNotNull();
        assertThat(rst.has(PacketView.RST)).isTrue();
        awaitDone(1);
        assertThat(counters.sessionsReplayed.sum()).isEqualTo(1);
    }

    @Test
    void aConnectionTheServerClosedFirstIsEndedByTheResetAlone() throws Exception {
        Seg data = answeredThenClosed("GET / HTTP/1.0\r\n\r\n", 3000);
        // The answer and the server's FIN relayed together, as intercept hands them over in one block.
        byte[] a = segment(data, 3001, TcpSeq.add(data.seq(), data.len()), PacketView.ACK | PacketView.PSH, 65535, 7, 0);
        byte[] f = segment(data, 3008, TcpSeq.add(data.seq(), data.len()), PacketView.FIN | PacketView.ACK, 65535, 0, 0);
        engine.loop.submit(() -> {
            engine.onRelayed(a, 0, a.length);
            engine.onRelayed(f, 0, f.length);
        }).get();
        Seg rst = next();
        assertThat(rst.has(PacketView.RST)).as("a reset, no FIN to be acknowledged first").isTrue();
        assertThat(rst.has(PacketView.FIN)).isFalse();
        assertThat(rst.seq()).as("at our next sequence number").isEqualTo(TcpSeq.add(data.seq(), data.len()));
        assertThat(rst.ack()).as("acknowledging the server's FIN").isEqualTo(3009);
        awaitDone(1);
        assertThat(counters.sessionsReplayed.sum()).isEqualTo(1);
        assertThat(counters.sessionsFailed.sum()).isZero();
        assertThat(nextWithin(200)).as("nothing after the reset").isNull();
    }

    @Test
    void aConnectionStillOpenOnTheServersSideGetsOurFinFirst() throws Exception {
        Seg data = answeredThenClosed("GET / HTTP/1.1\r\n\r\n", 5000);
        fromServer(data, 5001, TcpSeq.add(data.seq(), data.len()), PacketView.ACK | PacketView.PSH, 65535, 7, 0);
        Seg fin = next();
        assertThat(fin.has(PacketView.FIN)).isTrue();
        assertThat(fin.has(PacketView.RST)).isFalse();
        fromServer(fin, 5008, TcpSeq.add(fin.seq(), 1), PacketView.FIN | PacketView.ACK, 65535, 0, 0);
        Seg rst = next();
        assertThat(rst.has(PacketView.RST)).as("the server's TIME_WAIT freed after the FINs").isTrue();
        awaitDone(1);
        assertThat(counters.sessionsReplayed.sum()).isEqualTo(1);
    }

    @Test
    void theFirstRequestCarriesTheAckOfTheHandshake() throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, bytes("GET / HTTP/1.1\r\n\r\n"), 0);
        engine.flush();
        Seg syn = next();
        Seg first = handshake(syn, 3000, 65535);
        assertThat(first.len()).as("no pure ACK before the request: it completes the handshake itself").isEqualTo(18);
        assertThat(first.seq()).isEqualTo(TcpSeq.add(syn.seq(), 1));
        fromServer(first, 3001, TcpSeq.add(first.seq(), 18), PacketView.ACK, 65535, 0, 0); // taken, nothing owed
        Seg after = nextWithin(300);
        assertThat(after).as("and no ACK of its own after it: %s", after).isNull();
    }

    @Test
    void theHandshakeIsAcknowledgedAloneWhenTheFirstMessageIsTheServers() throws Exception {
        engine();
        SessionEvents s = open();
        s.expectedResponse(-1, 20, true); // a server that speaks first (SMTP, MySQL): our message waits for it
        s.message(0, bytes("EHLO replay\r\n"), 0);
        engine.flush();
        Seg syn = next();
        Seg ack = handshake(syn, 4000, 65535);
        assertThat(ack.len()).as("a pure ACK, so the server does not wait for one").isZero();
    }

    @Test
    void aResetDuringTheHandshakeIsInTheServersWindow() throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, bytes("GET / HTTP/1.1\r\n\r\n"), 0);
        engine.flush();
        Seg syn = next();
        engine.interruptAll(); // e.g. a stop's drain time ran out while the SYN-ACK was on its way
        Seg rst = next();
        assertThat(rst.has(PacketView.RST)).isTrue();
        // A server in SYN-RECEIVED only believes a reset at iss + 1.
        assertThat(rst.seq()).isEqualTo(TcpSeq.add(syn.seq(), 1));
        awaitDone(1);
        assertThat(counters.sessionsNotReplayed.sum()).isEqualTo(1);
    }

    @Test
    void aResetJustBelowAWrappedReceiveSequenceIsBelieved() throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, bytes("SET a 1\r\n"), 0);
        s.expectedResponse(0, 5, true);
        engine.flush();
        Seg syn = next();
        Seg data = handshake(syn, 0xfffffffeL, 65535); // the server's next byte is 0xffffffff
        fromServer(data, 0xffffffffL, TcpSeq.add(data.seq(), data.len()), PacketView.ACK, 65535, 0, 0);
        // rcvNxt is 0xffffffff; a reset one below it after the data wrapped: one byte of answer, then RST at rcvNxt - 1
        fromServer(data, 0xffffffffL, TcpSeq.add(data.seq(), data.len()), PacketView.ACK, 65535, 1, 0);
        Seg ack = next();
        assertThat(ack.ack()).isEqualTo(0L);
        fromServer(data, 0xffffffffL, 0, PacketView.RST, 0, 0, 0);
        s.end(CLOSED);
        engine.flush();
        awaitDone(1);
        assertThat(counters.sessionsDone()).as("the reset ended the session at once").isEqualTo(1);
        Seg after = nextWithin(300);
        assertThat(after == null || !after.has(PacketView.FIN)).as("no FIN to a connection the server reset").isTrue();
    }

    @Test
    void aClosedWindowIsProbedUntilItOpens() throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, bytes("0123456789"), 0);
        engine.flush();
        Seg syn = next();
        Seg ack = handshake(syn, 5000, 0); // the server's window is closed
        long una = ack.seq();
        Seg probe1 = next();
        assertThat(probe1.len()).isEqualTo(1);
        assertThat(probe1.seq()).isEqualTo(una);
        fromServer(probe1, 5001, una, PacketView.ACK, 0, 0, 0); // still closed: the probe byte is not taken
        Seg probe2 = next();
        assertThat(probe2.len()).as("probing goes on while the window stays closed").isEqualTo(1);
        assertThat(probe2.seq()).isEqualTo(una);
        fromServer(probe2, 5001, una, PacketView.ACK, 1000, 0, 0); // window opens
        Seg data = next();
        assertThat(data.len()).isPositive();
        assertThat(TcpSeq.add(data.seq(), data.len())).as("the rest of the message follows the probe byte")
                .isEqualTo(TcpSeq.add(una, 10));
    }

    @Test
    void sessionsWaitingForQuarantinedEndpointsStartWhenTheQuarantineEnds() throws Exception {
        ClientEndpoints endpoints = new ClientEndpoints(ClientRange.parse("10.99.0.0/30"), 0, 2_000_000_000L);
        long[] ids = new long[2 * ClientEndpoints.BLOCK_SIZE];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = endpoints.acquire(System.nanoTime());
        }
        long now = System.nanoTime();
        for (long id : ids) {
            endpoints.release(id, now); // all quarantined for 2 s, and no session running
        }
        engine(ReplayTuning.defaults(), endpoints);
        SessionEvents s = open();
        s.message(0, bytes("hello"), 0);
        engine.flush();
        Seg syn = next();
        assertThat(syn.has(PacketView.SYN)).isTrue();
        assertThat(counters.problemCount(ReplayProblem.ENDPOINTS_EXHAUSTED)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aWaitingSessionIsQueuedOnceWhateverItsMessages() throws Exception {
        engine(ReplayTuning.defaults().withMaxConnections(1),
                new ClientEndpoints(ClientRange.parse("10.99.0.0/16"), 0, 60_000_000_000L));
        SessionEvents first = open();
        first.message(0, bytes("a"), 0);
        SessionEvents second = open();
        for (int i = 0; i < 5; i++) {
            second.message(i, bytes("b" + i), 0);
        }
        engine.flush();
        assertThat(next().has(PacketView.SYN)).isTrue();
        int waiting = engine.loop.submit(engine::sessionsWaitingForSlot).get();
        assertThat(waiting).isEqualTo(1);
    }

    @Test
    void aServerThatClosesWithoutAnsweringIsResetNotLeftHalfClosed() throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, bytes("GET / HTTP/1.1\r\n\r\n"), 0);
        s.expectedResponse(0, 100, true);
        engine.flush();
        Seg syn = next();
        Seg data = handshake(syn, 7000, 65535);
        fromServer(data, 7001, TcpSeq.add(data.seq(), data.len()), PacketView.FIN | PacketView.ACK, 65535, 0, 0);
        Seg rst = next();
        assertThat(rst.has(PacketView.RST)).as("the server's half-closed connection is freed").isTrue();
        assertThat(rst.ack()).as("the reset acknowledges the server's FIN").isEqualTo(7002);
        awaitDone(1);
        assertThat(counters.sessionsFailed.sum()).isEqualTo(1);
        assertThat(counters.problemCount(ReplayProblem.TARGET_CLOSED)).isEqualTo(1);
    }

    @Test
    void aStaleAckDoesNotReopenAWindowTheServerClosedSince() throws Exception {
        engine();
        SessionEvents s = open();
        s.message(0, new byte[5000], 0);
        engine.flush();
        Seg syn = next();
        Seg first = handshake(syn, 9000, 2920); // two segments' worth
        long una = first.seq();
        Seg second = next();
        assertThat(first.len() + second.len()).isEqualTo(2920);
        // The newer ACK (all taken, window now closed) overtakes the older one (half taken, window open).
        fromServer(second, 9001, TcpSeq.add(una, 2920), PacketView.ACK, 0, 0, 0);
        fromServer(first, 9001, TcpSeq.add(una, 1460), PacketView.ACK, 2920, 0, 0);
        Seg after = next();
        assertThat(after.len()).as("only a window probe goes into the closed window").isEqualTo(1);
        assertThat(after.seq()).isEqualTo(TcpSeq.add(una, 2920));
    }
}
