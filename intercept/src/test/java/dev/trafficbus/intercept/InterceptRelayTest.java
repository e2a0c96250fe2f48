package dev.trafficbus.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.intercept.frame.Route;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * intercept in a real assist namespace (ip_forward=0) capturing a real server's answers to a fake client range,
 * relaying them to a replayer connection that speaks the frame contract.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterceptRelayTest {
    static final String TOKEN = "t0ken-for-tests";
    private static AssistNetwork net;

    @BeforeAll
    static void network() throws Exception {
        Assumptions.assumeTrue(NetNamespaces.root(), "needs root to create network namespaces and capture");
        net = AssistNetwork.create();
    }

    @AfterAll
    static void cleanup() {
        if (net != null) {
            net.close();
        }
    }

    static InterceptSettings settings(String filter, Duration hold, int maxQueue) {
        return new InterceptSettings(AssistNetwork.ASSIST_IF, filter, new InetSocketAddress(AssistNetwork.ASSIST_IP, 0),
                AccessToken.of(TOKEN.getBytes(StandardCharsets.UTF_8)), null, false, hold, maxQueue, Duration.ZERO,
                Duration.ofSeconds(2));
    }

    static Intercept start(InterceptSettings settings) throws Exception {
        return NetNamespaces.in(net.assist, () -> Intercept.start(settings, new InterceptCounters()));
    }

    static FrameClient connect(Intercept intercept) throws Exception {
        return NetNamespaces.in(net.client, () -> {
            Socket s = new Socket();
            s.connect(intercept.listenAddress(), 3000);
            return new FrameClient(s);
        });
    }

    static FrameClient welcomed(Intercept intercept) throws Exception {
        FrameClient c = connect(intercept);
        c.hello(TOKEN, "test-replayer");
        ByteBuffer answer = c.next(3000);
        assertThat(answer).isNotNull();
        assertThat(FrameReader.type(answer)).as(FrameClient.describe(answer)).isEqualTo(InterceptFrames.WELCOME);
        assertThat(FrameReader.readWelcome(answer).withPayload()).isFalse();
        return c;
    }

    /** A kernel TCP client on {@code fakeIp} connecting to the server; the answer never reaches it. */
    static CompletableFuture<Boolean> fakeClientConnect(String fakeIp, AtomicInteger localPort) {
        return fakeClientConnect(fakeIp, AssistNetwork.SERVER_IP, localPort);
    }

    static CompletableFuture<Boolean> fakeClientConnect(String fakeIp, String serverIp, AtomicInteger localPort) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return NetNamespaces.in(net.client, () -> {
                    try (Socket s = new Socket()) {
                        s.bind(new InetSocketAddress(fakeIp, 0));
                        localPort.set(s.getLocalPort());
                        s.connect(new InetSocketAddress(serverIp, 8080), 2500);
                        return true;
                    } catch (SocketTimeoutException e) {
                        return false;
                    }
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Reads frames until a relayed SYN-ACK from the server to {@code dstIp}:{@code dstPort} shows up. */
    static byte[] awaitSynAck(FrameClient c, String dstIp, AtomicInteger dstPort, long millis) throws Exception {
        byte[] want = InetAddress.getByName(dstIp).getAddress();
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            ByteBuffer frame = c.next((int) Math.max(1, deadline - System.currentTimeMillis()));
            if (frame == null) {
                throw new AssertionError("intercept closed the connection");
            }
            if (FrameReader.type(frame) != InterceptFrames.PACKETS) {
                continue;
            }
            List<byte[]> packets = new ArrayList<>();
            FrameReader.readPackets(frame, (b, off, len) -> {
                byte[] copy = new byte[len];
                b.get(off, copy);
                packets.add(copy);
            });
            for (byte[] p : packets) {
                PacketView v = new PacketView();
                // headers only: the view is told the wire length from the IP header so it does not expect payload
                if (v.wrap(p, 0, p.length) == PacketStatus.TCP && v.dstPort() == dstPort.get()
                        && v.addressLength() == want.length
                        && ByteBuffer.wrap(p, v.dstAddressOffset(), want.length).equals(ByteBuffer.wrap(want))) {
                    return p;
                }
            }
        }
        return null;
    }

    static void await(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void relaysTheServersAnswerToTheReplayerThatRegisteredTheFakeAddress() throws Exception {
        try (ServerSocket server = NetNamespaces.in(net.server,
                () -> new ServerSocket(8080, 50, InetAddress.getByName(AssistNetwork.SERVER_IP)));
             Intercept intercept = start(settings("tcp and src port 8080", Duration.ofMillis(1500), 1000));
             FrameClient replayer = welcomed(intercept)) {
            replayer.registerAndAwait(Route.parse("10.99.0.0/24")); // in place before the SYN goes out

            AtomicInteger port = new AtomicInteger();
            CompletableFuture<Boolean> connected = fakeClientConnect("10.99.0.5", port);
            byte[] synAck = awaitSynAck(replayer, "10.99.0.5", port, 5000);

            assertThat(synAck).as("relayed SYN-ACK").isNotNull();
            PacketView v = new PacketView();
            assertThat(v.wrap(synAck, 0, synAck.length)).isEqualTo(PacketStatus.TCP);
            assertThat(v.hasFlag(PacketView.SYN) && v.hasFlag(PacketView.ACK)).isTrue();
            assertThat(v.srcPort()).isEqualTo(8080);
            assertThat(InetAddress.getByAddress(java.util.Arrays.copyOfRange(synAck, v.srcAddressOffset(),
                    v.srcAddressOffset() + 4)).getHostAddress()).isEqualTo(AssistNetwork.SERVER_IP);
            assertThat(synAck.length).as("IP + TCP headers only").isEqualTo(v.payloadOffset());
            assertThat(v.mssOption()).as("options travel with the headers").isPositive();
            // assist has ip_forward=0: the answer never reached the fake client, so its connect cannot complete
            assertThat(connected.get(10, TimeUnit.SECONDS)).as("fake client connected").isFalse();
            assertThat(intercept.counters().relayed()).isPositive();
            assertThat(intercept.counters().dropped(DropReason.NO_ROUTE)).isZero();
        }
    }

    @Test
    void ipv6AnswersAreRoutedByTheirIpv6Route() throws Exception {
        try (ServerSocket server = NetNamespaces.in(net.server,
                () -> new ServerSocket(8080, 50, InetAddress.getByName(AssistNetwork.SERVER_IP6)));
             Intercept intercept = start(settings("tcp and src port 8080", Duration.ofMillis(1500), 1000));
             FrameClient replayer = welcomed(intercept)) {
            replayer.registerAndAwait(Route.parse("10.99.0.0/16"));
            replayer.registerAndAwait(Route.parse("[fd99::]/64"));
            AtomicInteger port = new AtomicInteger();
            CompletableFuture<Boolean> connected = fakeClientConnect("fd99::5", AssistNetwork.SERVER_IP6, port);
            byte[] synAck = awaitSynAck(replayer, "fd99::5", port, 5000);
            assertThat(synAck).as("relayed IPv6 SYN-ACK").isNotNull();
            PacketView v = new PacketView();
            assertThat(v.wrap(synAck, 0, synAck.length)).isEqualTo(PacketStatus.TCP);
            assertThat(v.ipVersion()).isEqualTo(6);
            assertThat(v.hasFlag(PacketView.SYN) && v.hasFlag(PacketView.ACK)).isTrue();
            assertThat(connected.get(10, TimeUnit.SECONDS)).as("fake client connected").isFalse();
        }
    }

    @Test
    void theReplayerChannelItselfIsNotCapturedEvenByAFilterThatMatchesIt() throws Exception {
        // as broad as the default 'tcp' for the channel, blind to leftovers of other tests on the bridge
        try (Intercept intercept = start(settings("tcp and host " + AssistNetwork.ASSIST_IP, Duration.ZERO, 1000));
             FrameClient replayer = welcomed(intercept)) {
            replayer.register(Route.parse("10.99.0.0/16"));
            for (int i = 0; i < 5; i++) {
                replayer.sendRaw(new byte[] {0, 0, 0, 1, InterceptFrames.PING});
            }
            Thread.sleep(300);
            intercept.stop();
            // The handshake, HELLO, WELCOME and PINGs crossed the captured interface: none is an answer to relay.
            assertThat(intercept.counters().captured()).as(intercept.statusLine()).isZero();
        }
    }

    @Test
    void answersWaitForTheirRouteUpToTheHoldTimeThenAreCountedAsNoRoute() throws Exception {
        try (ServerSocket server = NetNamespaces.in(net.server,
                () -> new ServerSocket(8080, 50, InetAddress.getByName(AssistNetwork.SERVER_IP)));
             Intercept intercept = start(settings("tcp and src port 8080", Duration.ofMillis(1500), 1000));
             FrameClient replayer = welcomed(intercept)) {
            AtomicInteger latePort = new AtomicInteger();
            AtomicInteger lostPort = new AtomicInteger();
            CompletableFuture<Boolean> late = fakeClientConnect("10.99.2.9", latePort);
            CompletableFuture<Boolean> lost = fakeClientConnect("10.99.1.7", lostPort);
            await(() -> intercept.counters().held() >= 2, 3000, "two answers held");
            long firstHeld = System.nanoTime();
            replayer.register(Route.parse("10.99.2.0/24"));
            assertThat(awaitSynAck(replayer, "10.99.2.9", latePort, 3000)).as("held SYN-ACK released").isNotNull();
            // The server retransmits a SYN-ACK only after 1 s: one arriving sooner is the held original.
            assertThat(Duration.ofNanos(System.nanoTime() - firstHeld)).isLessThan(Duration.ofMillis(900));

            // 10.99.1.7 never gets a route: its answers expire after the hold time and are counted
            await(() -> intercept.counters().dropped(DropReason.NO_ROUTE) >= 1, 4000, "no-route drops");
            late.get(10, TimeUnit.SECONDS);
            lost.get(10, TimeUnit.SECONDS);
            intercept.stop();
            InterceptCounters c = intercept.counters();
            System.out.println("hold test: " + intercept.statusLine());
            assertThat(c.captured()).as("captured = relayed + dropped").isEqualTo(c.relayed() + c.droppedTotal());
            assertThat(c.relayed()).isPositive();
            assertThat(c.dropped(DropReason.HOLD_FULL)).isZero();
            assertThat(intercept.kernelDrops()).as("libpcap's kernel drops, still known for the final summary")
                    .isZero();
        }
    }

    @Test
    void onTheTestServerItselfWithPayloadTheResponseBytesAreRelayedToo() throws Exception {
        InterceptSettings onServer = new InterceptSettings("br0", "tcp and src port 8080",
                new InetSocketAddress(AssistNetwork.SERVER_IP, 0), AccessToken.of(TOKEN.getBytes(StandardCharsets.UTF_8)),
                null, true, Duration.ofMillis(500), 1000, Duration.ZERO, Duration.ofSeconds(2));
        byte[] response = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII);
        try (ServerSocket server = NetNamespaces.in(net.server,
                () -> new ServerSocket(8080, 50, InetAddress.getByName(AssistNetwork.SERVER_IP)));
             Intercept intercept = NetNamespaces.in(net.server, () -> Intercept.start(onServer, new InterceptCounters()));
             FrameClient replayer = NetNamespaces.in(net.client, () -> {
                 Socket s = new Socket();
                 s.connect(intercept.listenAddress(), 3000);
                 return new FrameClient(s);
             })) {
            replayer.hello(TOKEN, "payload-replayer");
            ByteBuffer welcome = replayer.next(3000);
            assertThat(FrameReader.readWelcome(welcome).withPayload()).isTrue();
            replayer.register(Route.parse("10.77.0.4/32"));
            Thread.sleep(100);
            CompletableFuture<Void> serve = CompletableFuture.runAsync(() -> {
                try (Socket conn = server.accept()) {
                    conn.setSoTimeout(3000);
                    conn.getInputStream().read(new byte[512]);
                    conn.getOutputStream().write(response);
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] got = NetNamespaces.in(net.client, () -> {
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress("10.77.0.4", 0));
                    s.connect(new InetSocketAddress(AssistNetwork.SERVER_IP, 8080), 3000);
                    s.setSoTimeout(3000);
                    s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    return s.getInputStream().readAllBytes();
                }
            });
            serve.get(5, TimeUnit.SECONDS);
            assertThat(got).isEqualTo(response);

            byte[] relayedPayload = null;
            long deadline = System.currentTimeMillis() + 5000;
            while (relayedPayload == null && System.currentTimeMillis() < deadline) {
                ByteBuffer frame = replayer.next(3000);
                assertThat(frame).isNotNull();
                if (FrameReader.type(frame) != InterceptFrames.PACKETS) {
                    continue;
                }
                List<byte[]> packets = new ArrayList<>();
                FrameReader.readPackets(frame, (b, off, len) -> {
                    byte[] copy = new byte[len];
                    b.get(off, copy);
                    packets.add(copy);
                });
                for (byte[] p : packets) {
                    PacketView v = new PacketView();
                    if (v.wrap(p, 0, p.length) == PacketStatus.TCP && v.payloadLength() > 0) {
                        relayedPayload = java.util.Arrays.copyOfRange(p, v.payloadOffset(), p.length);
                    }
                }
            }
            assertThat(relayedPayload).as("relayed response payload").isEqualTo(response);
        }
    }

    @Test
    void aSlowReplayerGetsQueueFullDropsWhileTheQueueStaysBounded() throws Exception {
        int maxQueue = 200;
        try (Intercept intercept = start(settings("tcp and dst port 9", Duration.ZERO, maxQueue));
             FrameClient slow = NetNamespaces.in(net.client, () -> {
                 Socket s = new Socket();
                 s.setReceiveBufferSize(2048); // and it never reads
                 s.connect(intercept.listenAddress(), 3000);
                 return new FrameClient(s);
             })) {
            slow.hello(TOKEN, "slow-replayer");
            slow.register(Route.parse("10.99.0.0/16"));
            await(() -> intercept.counters().clientsConnected() == 1, 3000, "client connected");
            Thread.sleep(100);

            AtomicInteger maxSeen = new AtomicInteger();
            Thread sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    maxSeen.accumulateAndGet(intercept.queuedNow(), Math::max);
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.start();
            // The server host opens many connections to the fake range: every SYN is an "answer" routed via assist.
            int sent = NetNamespaces.in(net.server, () -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                int n = 0;
                InetSocketAddress target = new InetSocketAddress("10.99.0.5", 9);
                while (n < 20000 && System.nanoTime() < until) {
                    try (SocketChannel ch = SocketChannel.open()) {
                        ch.configureBlocking(false);
                        ch.connect(target);
                    }
                    n++;
                }
                return n;
            });
            await(() -> intercept.counters().dropped(DropReason.QUEUE_FULL) > 0, 5000, "queue-full drops");
            long before;
            do { // until the capture has seen everything
                before = intercept.counters().captured();
                Thread.sleep(300);
            } while (intercept.counters().captured() != before);
            sampler.interrupt();
            sampler.join();
            intercept.stop();

            InterceptCounters c = intercept.counters();
            System.out.println("slow replayer: sent " + sent + ", max queued " + maxSeen + ", " + intercept.statusLine());
            assertThat(sent).isGreaterThan(5000);
            assertThat(maxSeen.get()).as("packets queued for the slow replayer").isLessThanOrEqualTo(maxQueue);
            assertThat(c.dropped(DropReason.QUEUE_FULL)).isPositive();
            assertThat(c.captured()).as("captured = relayed + dropped").isEqualTo(c.relayed() + c.droppedTotal());
        }
    }
}
