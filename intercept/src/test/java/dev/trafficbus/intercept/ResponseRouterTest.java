package dev.trafficbus.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.intercept.frame.Route;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** Routing, batching and the drop reasons, with hand-built packet bytes and Netty's in-memory channel. */
class ResponseRouterTest {
    /** A fake "packet": 4 bytes of destination address then a marker byte. */
    private static byte[] packet(int lastOctet, int marker) {
        return new byte[] {10, 99, 0, (byte) lastOctet, (byte) marker};
    }

    private static void route(ResponseRouter router, byte[] p, long now) {
        router.route(p, 0, p.length, 0, 4, 1234, now);
    }

    @Test
    void packetsForOneReplayerLeaveAsOneBatchInOrder() {
        InterceptCounters counters = new InterceptCounters();
        ResponseRouter router = new ResponseRouter(new HeldResponses(0, 10, 1000), counters);
        EmbeddedChannel ch = new EmbeddedChannel();
        ClientLink link = new ClientLink(ch, "r", 100, counters);
        router.add(link);
        router.register(Route.parse("10.99.0.0/24"), link);
        for (int i = 0; i < 3; i++) {
            route(router, packet(5, i), 0);
        }
        route(router, packet(0, 9), 0);
        route(router, new byte[] {10, 98, 0, 1, 7}, 0); // no route, no hold: dropped at once
        router.tick(0);
        ch.runPendingTasks();

        ByteBuf frame = ch.readOutbound();
        assertThat(FrameReader.type(frame.nioBuffer())).isEqualTo(InterceptFrames.PACKETS);
        List<Integer> markers = new ArrayList<>();
        FrameReader.readPackets(frame.nioBuffer(), (b, off, len) -> markers.add((int) b.get(off + 4)));
        frame.release();
        assertThat(markers).containsExactly(0, 1, 2, 9);
        assertThat((Object) ch.readOutbound()).isNull();
        assertThat(counters.relayed()).isEqualTo(4);
        assertThat(counters.dropped(DropReason.NO_ROUTE)).isEqualTo(1);
    }

    @Test
    void heldPacketsGoFirstOnceTheRouteAppearsAndTheRestExpire() {
        InterceptCounters counters = new InterceptCounters();
        ResponseRouter router = new ResponseRouter(new HeldResponses(1_000_000, 2, 1000), counters);
        EmbeddedChannel ch = new EmbeddedChannel();
        ClientLink link = new ClientLink(ch, "r", 100, counters);
        router.add(link);
        route(router, packet(5, 1), 0);
        route(router, packet(6, 2), 10);
        route(router, packet(5, 3), 20); // the hold holds 2 packets
        assertThat(counters.dropped(DropReason.HOLD_FULL)).isEqualTo(1);
        router.register(Route.parse("10.99.0.5/32"), link);
        route(router, packet(5, 4), 30);
        router.tick(500_000);
        router.tick(1_000_010); // the packet to .6 waited too long
        ch.runPendingTasks();
        ByteBuf frame = ch.readOutbound();
        List<Integer> markers = new ArrayList<>();
        FrameReader.readPackets(frame.nioBuffer(), (b, off, len) -> markers.add((int) b.get(off + 4)));
        frame.release();
        assertThat(markers).containsExactly(1, 4);
        assertThat(counters.dropped(DropReason.NO_ROUTE)).isEqualTo(1);
        assertThat(counters.held()).isEqualTo(2);
    }

    @Test
    void atShutdownAHeldPacketWhoseRouteJustArrivedIsSentNotDropped() {
        InterceptCounters counters = new InterceptCounters();
        ResponseRouter router = new ResponseRouter(new HeldResponses(1_000_000_000L, 10, 1000), counters);
        EmbeddedChannel ch = new EmbeddedChannel();
        ClientLink link = new ClientLink(ch, "r", 100, counters);
        router.add(link);
        route(router, packet(5, 1), 0);
        route(router, packet(6, 2), 0);
        router.register(Route.parse("10.99.0.5/32"), link); // no tick ran since
        router.drain();
        ch.runPendingTasks();
        ByteBuf frame = ch.readOutbound();
        assertThat(frame).as("a PACKETS frame").isNotNull();
        List<Integer> markers = new ArrayList<>();
        FrameReader.readPackets(frame.nioBuffer(), (b, off, len) -> markers.add((int) b.get(off + 4)));
        frame.release();
        assertThat(markers).containsExactly(1);
        assertThat(counters.relayed()).isEqualTo(1);
        assertThat(counters.dropped(DropReason.NO_ROUTE)).isEqualTo(1);
    }

    private static List<Integer> relayed(EmbeddedChannel ch) {
        ch.runPendingTasks();
        List<Integer> markers = new ArrayList<>();
        for (ByteBuf frame = ch.readOutbound(); frame != null; frame = ch.readOutbound()) {
            FrameReader.readPackets(frame.nioBuffer(), (b, off, len) -> markers.add((int) b.get(off + 4)));
            frame.release();
        }
        return markers;
    }

    @Test
    void anOverlappingRouteOfAnotherReplayerIsRejectedSoAnswersStayWithTheFirst() {
        InterceptCounters counters = new InterceptCounters();
        ResponseRouter router = new ResponseRouter(new HeldResponses(0, 10, 1000), counters);
        EmbeddedChannel first = new EmbeddedChannel();
        EmbeddedChannel second = new EmbeddedChannel();
        EmbeddedChannel reconnected = new EmbeddedChannel();
        ClientLink a = new ClientLink(first, "replay-3@100@host-a", 100, counters);
        ClientLink b = new ClientLink(second, "replay-3@200@host-b", 100, counters);
        ClientLink a2 = new ClientLink(reconnected, "replay-3@100@host-a", 100, counters);
        router.add(a);
        router.add(b);
        router.add(a2);
        assertThat(router.register(Route.parse("10.99.0.0/16"), a)).isNull();
        assertThat(router.register(Route.parse("10.99.0.0/16"), b)).isSameAs(a);
        route(router, packet(5, 1), 0);
        router.tick(0);
        assertThat(relayed(first)).containsExactly(1);
        assertThat(relayed(second)).isEmpty();

        assertThat(router.register(Route.parse("10.99.0.0/16"), a2)).as("same name: a reconnect").isNull();
        route(router, packet(5, 2), 0);
        router.tick(0);
        assertThat(relayed(reconnected)).containsExactly(2);
        assertThat(relayed(first)).isEmpty();

        first.close();
        second.close();
        reconnected.close();
        ClientLink c = new ClientLink(new EmbeddedChannel(), "replay-3@300@host-c", 100, counters);
        router.add(c);
        assertThat(router.register(Route.parse("10.99.0.0/16"), c)).as("closed connections own nothing live").isNull();
    }

    @Test
    void aClosedReplayersRoutesGoAndItsBatchIsCountedAsLost() {
        InterceptCounters counters = new InterceptCounters();
        ResponseRouter router = new ResponseRouter(new HeldResponses(0, 10, 1000), counters);
        EmbeddedChannel ch = new EmbeddedChannel();
        ClientLink link = new ClientLink(ch, "r", 100, counters);
        router.add(link);
        router.register(Route.parse("10.99.0.0/24"), link);
        route(router, packet(5, 1), 0);
        ch.close();
        router.remove(link);
        ch.runPendingTasks();
        route(router, packet(5, 2), 0);
        assertThat(counters.dropped(DropReason.CLIENT_GONE)).isEqualTo(1);
        assertThat(counters.dropped(DropReason.NO_ROUTE)).isEqualTo(1);
        assertThat(router.routeCount()).isZero();
    }
}
