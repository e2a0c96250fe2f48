package dev.trafficbus.session;

import dev.trafficbus.flow.FlowKey;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SessionTableTest {
    private final List<RecordedEvents> opened = new ArrayList<>();
    private final SessionTable table = new SessionTable((key, ts, partition) -> {
        RecordedEvents e = new RecordedEvents();
        opened.add(e);
        return e;
    }, 1 << 20);
    private long now;

    private static FlowKey key() throws Exception {
        return FlowKey.of(InetAddress.getByName("10.0.0.1"), 80, InetAddress.getByName("10.0.0.2"), 40000);
    }

    private List<SessionTable.Outcome> feed(List<Conversation.Packet> packets) throws Exception {
        List<SessionTable.Outcome> outcomes = new ArrayList<>();
        for (Conversation.Packet p : packets) {
            outcomes.add(table.accept(key(), 0, p.clientToServer(), p.view(), p.tsMicros(), now));
            now += 1_000_000;
        }
        return outcomes;
    }

    private static Conversation connection(long isn) {
        return new Conversation("10.0.0.2", 40000, "10.0.0.1", 80, isn, 9_000, 0);
    }

    @Test
    void aNewSynAfterACloseIsANewSession() throws Exception {
        feed(connection(100).handshake().clientSends("one").serverSends(new byte[5], 1460)
                .clientFin().serverFin().clientAck().packets());
        assertThat(opened).hasSize(1);
        assertThat(opened.get(0).end).isNotNull();
        feed(connection(777_777).handshake().clientSends("two").serverSends(new byte[5], 1460).packets());
        assertThat(opened).hasSize(2);
        assertThat(opened.get(1).messages).containsExactly("two");
        assertThat(table.liveSessions()).isEqualTo(1);
    }

    @Test
    void aSynOnALiveSessionThatMissedItsCloseStartsANewOne() throws Exception {
        feed(connection(100).handshake().clientSends("one").serverSends(new byte[5], 1460).packets());
        feed(connection(5_000_000).handshake().clientSends("two").packets());
        assertThat(opened).hasSize(2);
        assertThat(opened.get(0).end.how()).isEqualTo(SessionEnd.How.END_OF_INPUT);
        assertThat(opened.get(0).messages).containsExactly("one");
    }

    @Test
    void aRetransmittedSynIsTheSameSession() throws Exception {
        Conversation c = connection(100).handshake();
        List<Conversation.Packet> p = new ArrayList<>(c.packets());
        p.add(1, p.get(0));
        feed(p);
        assertThat(opened).hasSize(1);
    }

    @Test
    void trailingPacketsAfterACloseOpenNothingAndLateDataIsFlagged() throws Exception {
        Conversation c = connection(100).handshake().clientSends("one").serverSends(new byte[5], 1460)
                .clientFin().serverFin();
        feed(c.packets());
        c.clientAck();
        assertThat(feed(c.packets().subList(c.packets().size() - 1, c.packets().size())))
                .containsExactly(SessionTable.Outcome.ACCEPTED);
        c.clientSends("late");
        assertThat(feed(c.packets().subList(c.packets().size() - 1, c.packets().size())))
                .containsExactly(SessionTable.Outcome.DATA_AFTER_CLOSE);
        assertThat(opened).hasSize(1);
    }

    @Test
    void aLoneAckOfAnUnknownConnectionOpensNoSession() throws Exception {
        Conversation c = connection(100).handshakeNotCaptured().clientAck();
        assertThat(feed(c.packets())).containsExactly(SessionTable.Outcome.NO_SESSION);
        assertThat(opened).isEmpty();
    }

    @Test
    void sweepFlushesQuietSessionsThenEndsThemAndForgetsTombstones() throws Exception {
        feed(connection(100).handshake().clientSends("one").packets());
        assertThat(opened.get(0).messages).isEmpty();
        long flush = 1_000_000_000L;
        long end = 60_000_000_000L;
        long forget = 10_000_000_000L;
        table.sweep(now + 500_000_000L, flush, end, forget);
        assertThat(opened.get(0).messages).isEmpty();
        table.sweep(now + 2 * flush, flush, end, forget);
        assertThat(opened.get(0).messages).containsExactly("one");
        assertThat(opened.get(0).end).isNull();
        table.sweep(now + end, flush, end, forget);
        assertThat(opened.get(0).end.how()).isEqualTo(SessionEnd.How.IDLE);
        assertThat(table.size()).isEqualTo(1);
        table.sweep(now + end + forget, flush, end, forget);
        assertThat(table.size()).isZero();
    }

    @Test
    void finishAllEndsEverySession() throws Exception {
        feed(connection(100).handshake().clientSends("one").packets());
        table.finishAll();
        assertThat(opened.get(0).messages).containsExactly("one");
        assertThat(opened.get(0).end.how()).isEqualTo(SessionEnd.How.END_OF_INPUT);
        assertThat(table.liveSessions()).isZero();
    }

    @Test
    void clientDataAfterAnIdleEndOpensAMidConnectionSession() throws Exception {
        Conversation c = connection(100).handshake().clientSends("one").serverSends(new byte[5], 1460);
        feed(c.packets());
        table.sweep(now + 60_000_000_000L, 1_000_000_000L, 60_000_000_000L, 10_000_000_000L);
        assertThat(opened.get(0).end.how()).isEqualTo(SessionEnd.How.IDLE);
        int before = c.packets().size();
        c.clientSends("two").serverSends(new byte[5], 1460).clientSends("three");
        assertThat(feed(c.packets().subList(before, c.packets().size())))
                .doesNotContain(SessionTable.Outcome.DATA_AFTER_CLOSE);
        assertThat(opened).hasSize(2);
        assertThat(table.liveSessions()).isEqualTo(1);
        table.finishAll();
        assertThat(opened.get(0).messages).containsExactly("one");
        assertThat(opened.get(1).messages).containsExactly("two", "three");
        assertThat(opened.get(1).end.synSeen()).isFalse();
    }

    @Test
    void aRetransmittedSynWithFastOpenDataIsTheSameSession() throws Exception {
        int syn = dev.trafficbus.packet.PacketView.SYN;
        byte[] tfo = "hello".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        List<Conversation.Packet> p = List.of(
                new Conversation.Packet(true, TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 80, 100, 0, syn, tfo), 0),
                new Conversation.Packet(true, TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 80, 100, 0, syn, tfo), 10));
        feed(p);
        assertThat(opened).hasSize(1);
        assertThat(table.liveSessions()).isEqualTo(1);
        table.finishAll();
        assertThat(opened.get(0).messages).containsExactly("hello");
    }
}
