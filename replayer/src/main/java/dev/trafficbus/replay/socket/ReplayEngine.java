package dev.trafficbus.replay.socket;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.http.ResponsePublisher;
import dev.trafficbus.replay.intake.LoopMailbox;
import dev.trafficbus.replay.intake.OffsetLedger;
import dev.trafficbus.replay.intake.ReplayClock;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.intake.SessionDrain;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.SessionKey;
import dev.trafficbus.session.SessionTable;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The socket engine: Netty event loops, the connection cap, the pacing clock and the counters that every
 * {@link ReplaySession} shares. Opens one replay session per captured session.
 */
public final class ReplayEngine implements SessionTable.Opener, SessionDrain.Sessions, AutoCloseable {
    final ReplayCounters counters;
    public final ReplayClock clock;
    final ReplayTuning tuning;
    public final ConnectionLimiter limiter;
    final InetSocketAddress target;
    /** Captured message bytes handed to sessions and not yet written or dropped. */
    public final AtomicLong pendingBytes = new AtomicLong();
    /** Sessions holding a connection slot that cannot go on until more of the capture is consumed. */
    public final AtomicInteger starvedSlots = new AtomicInteger();
    /** The consumer thread's events for the sessions, handed over once per poll. */
    public final LoopMailbox mailbox = new LoopMailbox();
    final long quietNanos;
    final long responseTimeoutNanos;
    final ReplayOptions options;
    /** Where finished sessions release their records for the commit. */
    public final OffsetLedger ledger;
    /** Null unless request/response records are published. */
    final ResponsePublisher responses;
    /** Null unless a run report is made. */
    final RunTimeline timeline;

    private final EventLoopGroup group;
    private final Bootstrap template;
    private final boolean nativeTransport;
    private final Set<ReplaySession> live = ConcurrentHashMap.newKeySet();

    ReplayEngine(InetSocketAddress target, ReplaySpeed speed, ReplayTuning tuning, ReplayCounters counters) {
        this(target, speed, tuning, counters, ReplayOptions.defaults(), new OffsetLedger(), null);
    }

    ReplayEngine(InetSocketAddress target, ReplaySpeed speed, ReplayTuning tuning, ReplayCounters counters,
                 ReplayOptions options, OffsetLedger ledger, ResponsePublisher responses) {
        this.options = options;
        this.ledger = ledger;
        this.responses = responses;
        this.timeline = options.timeline();
        this.target = target;
        this.tuning = tuning;
        this.counters = counters;
        this.clock = new ReplayClock(speed);
        this.limiter = new ConnectionLimiter(tuning.maxConnections());
        this.quietNanos = tuning.quietPeriod().toNanos();
        this.responseTimeoutNanos = tuning.responseTimeout().toNanos();
        nativeTransport = Epoll.isAvailable();
        IoHandlerFactory io = nativeTransport ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends Channel> channelType = nativeTransport ? EpollSocketChannel.class : NioSocketChannel.class;
        int threads = tuning.ioThreads() > 0 ? tuning.ioThreads() : Runtime.getRuntime().availableProcessors();
        group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("trafficbus-replay-io", true), io);
        template = new Bootstrap()
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        tuning.connectTimeout().toMillis()));
    }

    /** True when the native epoll transport is in use (else NIO). */
    boolean nativeTransport() {
        return nativeTransport;
    }

    @Override
    public SessionEvents open(FlowKey key, long firstTsMicros, int partition) {
        return open(new SessionKey(key, 0), firstTsMicros, partition, -1, "");
    }

    /**
     * Opens the replay of session {@code key} whose first record is {@code offset} of {@code partition}
     * (-1: not tracked for commits), captured by {@code source}.
     */
    public ReplaySession open(SessionKey key, long firstTsMicros, int partition, long offset, String source) {
        counters.sessionsSeen.increment();
        if (offset >= 0) {
            ledger.open(partition, offset);
        }
        ReplaySession s = new ReplaySession(this, group.next(), key, firstTsMicros, partition, offset, source);
        live.add(s);
        return s;
    }

    /** Sessions of the partitions {@code partitions} accepts that have not reached an outcome. */
    public int liveSessions(java.util.function.IntPredicate partitions) {
        int n = 0;
        for (ReplaySession s : live) {
            if (partitions.test(s.partition())) {
                n++;
            }
        }
        return n;
    }

    /** Ends the sessions of the partitions {@code partitions} accepts, counting them as interrupted. */
    public void interrupt(java.util.function.IntPredicate partitions) {
        for (ReplaySession s : live) {
            if (partitions.test(s.partition())) {
                s.interrupt();
            }
        }
    }

    /** A connect bootstrap whose channel lives on {@code loop}. */
    Bootstrap bootstrap(EventLoop loop) {
        return template.clone(loop);
    }

    void finished(ReplaySession s) {
        live.remove(s);
    }

    @Override
    public int liveSessions() {
        return live.size();
    }

    @Override
    public void interruptAll() {
        for (ReplaySession s : live) {
            s.interrupt();
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
