package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.intercept.frame.FrameException;
import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.FrameWriter;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.intercept.frame.Route;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.intake.ReplayCounters;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The replayer's side of the intercept channel: connects to every intercept, says HELLO with the token,
 * REGISTERs the fake client range and this instance's port block, and hands every relayed packet to the
 * engine. Reconnects with backoff when an intercept goes away (sessions mid-handshake recover by
 * retransmitting their SYN). Channels run on the engine thread, so packets arrive there directly.
 */
final class InterceptClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InterceptClient.class);
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2_000;
    // intercept PINGs an idle channel every 10 s: this much silence means its host is gone (no FIN ever comes).
    static final long READ_IDLE_MILLIS = 35_000;
    // intercept answers a REGISTER at once, REGISTERED or REFUSED; one older than the REGISTERED frame answers only
    // a refusal, and this is how long we wait for one before going on without an answer.
    static final long REGISTER_GRACE_MILLIS = 500;

    /** Receives a relayed packet (IP header first) on the engine thread. */
    interface Sink {
        void packet(byte[] bytes, int offset, int length);
    }

    private final EventLoopGroup group;
    private final byte[] token;
    private final String name;
    private final Route route;
    private final SslContext ssl;
    private final Sink sink;
    private final ReplayCounters counters;
    private final long readIdleMillis;
    private final List<Link> links = new ArrayList<>();
    private volatile boolean closing;
    private volatile String refusal;
    private volatile Runnable onRefusal = () -> { };
    private byte[] copy = new byte[2048];

    InterceptClient(EventLoopGroup group, List<InetSocketAddress> intercepts, String token, String name, Route route,
                    File trustedCa, Sink sink, ReplayCounters counters) {
        this(group, intercepts, token, name, route, trustedCa, sink, counters, READ_IDLE_MILLIS);
    }

    /** As above, with the silence after which a channel counts as dead. */
    InterceptClient(EventLoopGroup group, List<InetSocketAddress> intercepts, String token, String name, Route route,
                    File trustedCa, Sink sink, ReplayCounters counters, long readIdleMillis) {
        this.readIdleMillis = readIdleMillis;
        this.group = group;
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.name = name;
        this.route = route;
        this.sink = sink;
        this.counters = counters;
        this.ssl = trustedCa == null ? null : clientSsl(trustedCa);
        for (InetSocketAddress a : intercepts) {
            links.add(new Link(a));
        }
    }

    private static SslContext clientSsl(File ca) {
        try {
            return SslContextBuilder.forClient().trustManager(ca).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new UserInputException("--intercept-ca " + ca + " is not a usable PEM certificate: " + e.getMessage(), e);
        }
    }

    /**
     * Connects to every intercept and waits until each welcomed us and has our route.
     *
     * @throws UserInputException when one refuses (bad token), cannot be reached or does not answer in time
     */
    void start(Duration wait) {
        for (Link l : links) {
            l.connect();
        }
        long deadline = System.nanoTime() + wait.toNanos();
        for (Link l : links) {
            try {
                l.firstWelcome.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                close();
                throw new UserInputException(e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                close();
                throw new UserInputException("intercept " + l.show() + " did not welcome us within "
                        + wait.toSeconds() + " s (is it an intercept server? TLS on one side only?)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new UserInputException("interrupted while connecting to intercept " + l.show());
            }
        }
        awaitRegistration();
    }

    /** The intercepts (as HOST:PORT) whose WELCOME said they relay headers only, without the answers' bytes. */
    List<String> headersOnly() {
        List<String> out = new ArrayList<>();
        for (Link l : links) {
            if (l.ready && !l.withPayload) {
                out.add(l.show());
            }
        }
        return out;
    }

    // WELCOME only says the token was good; the REGISTER sent after it can still be refused (overlapping route).
    private void awaitRegistration() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REGISTER_GRACE_MILLIS);
        while (refusal == null && !allRegistered() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (refusal != null) {
            close();
            failIfRefused();
        }
    }

    private boolean allRegistered() {
        for (Link l : links) {
            if (!l.registered) {
                return false;
            }
        }
        return true;
    }

    /** Runs {@code action} (on the engine thread) when an intercept refuses us after welcoming us. */
    void onRefusal(Runnable action) {
        this.onRefusal = action;
    }

    /**
     * Ends the run when an intercept refused us at any point.
     *
     * @throws UserInputException with the intercept's reason
     */
    void failIfRefused() {
        String r = refusal;
        if (r != null) {
            throw new UserInputException(r);
        }
    }

    /** Intercepts currently welcoming and routing to us. */
    int connected() {
        int n = 0;
        for (Link l : links) {
            if (l.ready) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void close() {
        closing = true;
        for (Link l : links) {
            Channel c = l.channel;
            if (c != null) {
                c.close();
            }
        }
    }

    private void deliver(ByteBuffer frame) {
        FrameReader.readPackets(frame, (buf, at, len) -> {
            if (buf.hasArray()) {
                sink.packet(buf.array(), buf.arrayOffset() + at, len);
            } else {
                if (copy.length < len) {
                    copy = new byte[Math.max(len, copy.length * 2)];
                }
                buf.get(at, copy, 0, len);
                sink.packet(copy, 0, len);
            }
        });
    }

    /** One intercept server: its channel, its state and its reconnection backoff. */
    private final class Link {
        final InetSocketAddress address;
        final CompletableFuture<Void> firstWelcome = new CompletableFuture<>();
        volatile Channel channel;
        volatile boolean ready;
        volatile boolean refused;
        /** The intercept said REGISTERED for our route (once; a reconnection registers again, unwaited). */
        volatile boolean registered;
        /** Its WELCOME said the packets it relays carry their payload (intercept --with-payload). */
        volatile boolean withPayload;
        long backoff = MIN_BACKOFF_MILLIS;

        Link(InetSocketAddress address) {
            this.address = address;
        }

        String show() {
            return TargetAddress.show(address);
        }

        void connect() {
            if (closing) {
                return;
            }
            Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 3000)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (ssl != null) {
                                ch.pipeline().addLast(ssl.newHandler(ch.alloc(), address.getHostString(), address.getPort()));
                            }
                            ch.pipeline().addLast(new ReadTimeoutHandler(readIdleMillis, TimeUnit.MILLISECONDS));
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(InterceptFrames.MAX_FRAME + 4, 0, 4, 0, 0));
                            ch.pipeline().addLast(new Handler(Link.this));
                        }
                    });
            b.connect(address).addListener(f -> {
                if (!f.isSuccess()) {
                    String why = f.cause() == null ? "failed" : f.cause().getMessage();
                    if (!firstWelcome.isDone()) {
                        firstWelcome.completeExceptionally(new IllegalStateException(
                                "cannot connect to intercept " + show() + ": " + why));
                        return;
                    }
                    counters.problem(ReplayProblem.INTERCEPT_CONNECT_FAILED);
                    retryLater();
                }
            });
        }

        void retryLater() {
            if (closing || refused) {
                return;
            }
            long delay = backoff;
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            group.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
        private final Link link;

        Handler(Link link) {
            this.link = link;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            link.channel = ctx.channel();
            ByteBuffer hello = ByteBuffer.allocate(FrameWriter.helloSize(token, name));
            FrameWriter.hello(hello, token, name);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(hello.flip()));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            ByteBuffer frame = msg.nioBuffer(msg.readerIndex(), msg.readableBytes());
            try {
                switch (FrameReader.type(frame)) {
                    case InterceptFrames.PACKETS -> deliver(frame);
                    case InterceptFrames.WELCOME -> welcomed(ctx, FrameReader.readWelcome(frame).withPayload());
                    case InterceptFrames.REFUSED -> refused(ctx, FrameReader.readRefused(frame));
                    case InterceptFrames.REGISTERED -> {
                        FrameReader.readRoute(frame); // well-formed, or a bad frame
                        link.registered = true;
                    }
                    case InterceptFrames.PING -> {
                        // keep-alive; nothing to answer
                    }
                    default -> counters.problem(ReplayProblem.INTERCEPT_UNKNOWN_FRAME);
                }
            } catch (FrameException e) {
                counters.problem(ReplayProblem.INTERCEPT_BAD_FRAME);
                log.warn("intercept {} sent a bad frame ({}); reconnecting", link.show(), e.getMessage());
                ctx.close();
            }
        }

        private void welcomed(ChannelHandlerContext ctx, boolean withPayload) {
            link.withPayload = withPayload;
            ByteBuffer reg = ByteBuffer.allocate(FrameWriter.routeSize(route));
            FrameWriter.register(reg, route);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(reg.flip()));
            link.ready = true;
            link.backoff = MIN_BACKOFF_MILLIS;
            if (!link.firstWelcome.complete(null)) {
                log.info("intercept {} is back; route {} registered again", link.show(), route);
            }
        }

        private void refused(ChannelHandlerContext ctx, String reason) {
            link.refused = true;
            counters.problem(ReplayProblem.INTERCEPT_REFUSED);
            String message = "intercept " + link.show() + " refused: " + reason;
            if (!link.firstWelcome.completeExceptionally(new IllegalStateException(message)) && refusal == null) {
                // Replaying on without this intercept's answers would only produce failed sessions: stop the run.
                refusal = message;
                onRefusal.run();
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            boolean was = link.ready;
            link.ready = false;
            if (closing || link.refused) {
                return;
            }
            if (!link.firstWelcome.isDone()) {
                link.firstWelcome.completeExceptionally(new IllegalStateException(
                        "intercept " + link.show() + " closed the channel before welcoming us"));
                return;
            }
            if (was) {
                counters.problem(ReplayProblem.INTERCEPT_DISCONNECTED);
                log.warn("lost intercept {}; reconnecting", link.show());
            }
            link.retryLater();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof ReadTimeoutException && link.ready) {
                counters.problem(ReplayProblem.INTERCEPT_SILENT);
                log.warn("intercept {} sent nothing for {} ms; reconnecting", link.show(), readIdleMillis);
            }
            log.debug("intercept {}: {}", link.show(), cause.toString());
            if (!link.firstWelcome.isDone()) {
                link.firstWelcome.completeExceptionally(new IllegalStateException(
                        "intercept " + link.show() + ": " + cause.getMessage()));
            }
            ctx.close();
        }
    }
}
