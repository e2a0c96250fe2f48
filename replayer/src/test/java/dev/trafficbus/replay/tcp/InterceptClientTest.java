package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.intercept.frame.FrameWriter;
import dev.trafficbus.intercept.frame.Route;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.intake.ReplayCounters;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The replayer's intercept channel against a real socket server that speaks the frame protocol. */
@Timeout(30)
class InterceptClientTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    /** The connections the fake intercepts accepted. */
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        for (Socket s : accepted) {
            s.close();
        }
    }

    @Test
    void aChannelThatFallsSilentIsReplacedByANewOne() throws Exception {
        // An intercept host that vanished (power loss, cable) sends no FIN: only its missing PINGs tell.
        Semaphore connections = new Semaphore(0);
        ReplayCounters counters = new ReplayCounters();
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (!server.isClosed()) {
                        welcome(server.accept(), accepted);
                        connections.release(); // then silence, the connection left open
                    }
                } catch (IOException e) {
                    // server closed
                }
            }, "silent-intercept");
            acceptor.setDaemon(true);
            acceptor.start();
            InterceptClient client = new InterceptClient(group,
                    List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort())), "t",
                    "test", Route.parse("10.99.0.0/16:2048-6143"), null, (b, o, l) -> { }, counters, 500);
            try {
                client.start(Duration.ofSeconds(5));
                assertThat(connections.tryAcquire(5, TimeUnit.SECONDS)).isTrue();
                assertThat(connections.tryAcquire(5, TimeUnit.SECONDS)).as("reconnected after the silence").isTrue();
                assertThat(counters.problemCount(ReplayProblem.INTERCEPT_SILENT)).isGreaterThanOrEqualTo(1);
            } finally {
                client.close();
            }
        }
    }

    @Test
    void theStartEndsAsSoonAsTheInterceptSaysRegistered() throws Exception {
        // An intercept that answers REGISTER needs no grace for a refusal that might still come.
        Route route = Route.parse("10.99.0.0/16:2048-6143");
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            ByteBuffer registered = ByteBuffer.allocate(FrameWriter.routeSize(route));
            FrameWriter.registered(registered, route);
            answerTheRegister(server, accepted, registered);
            InterceptClient client = new InterceptClient(group,
                    List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort())), "t",
                    "test", route, null, (b, o, l) -> { }, new ReplayCounters());
            try {
                long t0 = System.nanoTime();
                client.start(Duration.ofSeconds(5));
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("start without waiting out the grace")
                        .isLessThan(Duration.ofMillis(InterceptClient.REGISTER_GRACE_MILLIS));
                assertThat(client.connected()).isEqualTo(1);
            } finally {
                client.close();
            }
        }
    }

    @Test
    void aRegisterRefusedAfterTheWelcomeEndsTheStartWithTheReason() throws Exception {
        // intercept welcomes a good token, then refuses a route that overlaps another replayer's.
        String reason = "route 10.99.0.0/16:2048-6143 overlaps the route of replayer other; give each replayer its own --instance";
        ReplayCounters counters = new ReplayCounters();
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            ByteBuffer refused = ByteBuffer.allocate(FrameWriter.refusedSize(reason));
            FrameWriter.refused(refused, reason);
            answerTheRegister(server, accepted, refused);
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
            InterceptClient client = new InterceptClient(group, List.of(address), "t", "test",
                    Route.parse("10.99.0.0/16:2048-6143"), null, (b, o, l) -> { }, counters);
            try {
                assertThatThrownBy(() -> client.start(Duration.ofSeconds(5)))
                        .isInstanceOf(UserInputException.class)
                        .hasMessage("intercept " + TargetAddress.show(address) + " refused: " + reason);
                assertThat(counters.problemCount(ReplayProblem.INTERCEPT_REFUSED)).isEqualTo(1);
            } finally {
                client.close();
            }
        }
    }

    /** An intercept on {@code server} that welcomes one replayer and answers its REGISTER with {@code answer}. */
    private static void answerTheRegister(ServerSocket server, List<Socket> accepted, ByteBuffer answer) {
        Thread acceptor = new Thread(() -> {
            try {
                Socket s = server.accept();
                DataInputStream in = welcome(s, accepted);
                in.readFully(new byte[in.readInt()]); // REGISTER
                s.getOutputStream().write(answer.array(), 0, answer.position());
            } catch (IOException e) {
                // server closed
            }
        }, "answering-intercept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Keeps {@code s} in {@code accepted}, reads its HELLO and welcomes it (headers only); returns its input. */
    private static DataInputStream welcome(Socket s, List<Socket> accepted) throws IOException {
        accepted.add(s);
        DataInputStream in = new DataInputStream(s.getInputStream());
        in.readFully(new byte[in.readInt()]); // HELLO
        ByteBuffer welcome = ByteBuffer.allocate(16);
        FrameWriter.welcome(welcome, false);
        s.getOutputStream().write(welcome.array(), 0, welcome.position());
        return in;
    }
}
