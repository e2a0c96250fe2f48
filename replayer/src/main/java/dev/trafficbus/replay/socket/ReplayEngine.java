package dev.trafficbus.replay.socket;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.conversation.EngineSessions;
import dev.trafficbus.replay.conversation.SessionReplay;
import dev.trafficbus.replay.conversation.TargetHandler;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.intake.Engine;
import dev.trafficbus.replay.intake.EngineContext;
import dev.trafficbus.replay.tls.TlsClient;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.SessionKey;
import dev.trafficbus.session.SessionTable;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * The socket engine: Netty event loops, the connection cap and the settings that every {@link ReplaySession}
 * shares. Opens one replay session per captured session, over an ordinary connection to the target, or a TLS
 * connection when the target speaks TLS.
 */
public final class ReplayEngine implements SessionTable.Opener, Engine {
    final ReplayCounters counters;
    final ReplayTuning tuning;
    final ConnectionLimiter limiter;
    final InetSocketAddress target;
    final ReplayOptions options;
    final EngineContext context;
    /** What every session shares: counters, answers, the mailbox, the sessions without an outcome. */
    private final EngineSessions sessions;
    /** Null unless the target speaks TLS. */
    private final TlsClient tls;

    private final EventLoopGroup group;
    private final Bootstrap template;
    private final boolean nativeTransport;

    /** The engine of one run: its settings, counters, clock and ledger come from {@code ctx}. */
    public ReplayEngine(EngineContext ctx) {
        ReplayTuning tuning = ctx.tuning();
        this.context = ctx;
        this.options = ctx.options();
        this.target = ctx.request().target();
        this.tuning = tuning;
        this.counters = ctx.counters();
        this.sessions = new EngineSessions(ctx);
        this.limiter = new ConnectionLimiter(tuning.maxConnections());
        this.tls = TlsClient.of(options, tuning, counters);
        nativeTransport = Epoll.isAvailable();
        IoHandlerFactory io = nativeTransport ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends Channel> channelType = nativeTransport ? EpollSocketChannel.class : NioSocketChannel.class;
        int threads = tuning.ioThreads() > 0 ? tuning.ioThreads() : Runtime.getRuntime().availableProcessors();
        group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("trafficbus-replay-io", true), io);
        template = new Bootstrap()
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                // One allocator for every connection (each keeps only its own handle), not one each.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        tuning.connectTimeout().toMillis()));
    }

    /** True when the native epoll transport is in use (else NIO). */
    boolean nativeTransport() {
        return nativeTransport;
    }

    @Override
    public SessionEvents open(FlowKey key, long firstTsMicros, int partition) {
        return open(new SessionKey(key, 0), firstTsMicros, partition, -1, "", null);
    }

    @Override
    public SessionReplay open(SessionKey key, long firstTsMicros, int partition, long offset, String source,
                              PacketView first) {
        return sessions.open(key, firstTsMicros, partition, offset, source, group.next(), context.newExchanges(),
                s -> new ReplaySession(this, s));
    }

    @Override
    public void flush() {
        sessions.flush();
    }

    @Override
    public long pendingBytes() {
        return sessions.pendingBytes();
    }

    @Override
    public int connectionSlots() {
        return tuning.maxConnections();
    }

    @Override
    public int slotsInUse() {
        return limiter.inUse();
    }

    @Override
    public int starvedSlots() {
        return sessions.starvedSlots();
    }

    @Override
    public boolean starvedOn(int partition) {
        return sessions.starvedOn(partition);
    }

    @Override
    public int sessionsWaitingForSlot() {
        return limiter.waiting();
    }

    @Override
    public int liveSessions(IntPredicate partitions) {
        return sessions.liveSessions(partitions);
    }

    @Override
    public void interrupt(IntPredicate partitions) {
        sessions.interrupt(partitions);
    }

    /** A connect bootstrap whose channel lives on {@code loop}. */
    Bootstrap bootstrap(EventLoop loop) {
        return template.clone(loop);
    }

    /**
     * The handlers of one connection of {@code s}: the TLS client first when the target speaks TLS, offering the
     * server name and ALPN protocol of the session's first message ({@code first}, may be null).
     */
    ChannelHandler handlers(ReplaySession s, byte[] first) {
        TargetHandler target = new TargetHandler(s, tls != null && tls.insecure() ? counters : null);
        if (tls == null) {
            return target;
        }
        String name = tls.serverName(first, options.http().hostOverride(), this.target.getHostString());
        int port = this.target.getPort();
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                tls.addTo(ch.pipeline(), name, port, first);
                ch.pipeline().addLast(target);
            }
        };
    }

    @Override
    public int liveSessions() {
        return sessions.liveSessions();
    }

    @Override
    public void interruptAll() {
        sessions.interrupt(p -> true);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
