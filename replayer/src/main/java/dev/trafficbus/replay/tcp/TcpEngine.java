package dev.trafficbus.replay.tcp;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.intake.SessionDrain;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.SessionTable;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tcp engine's shared parts, all driven by one engine thread: the raw sender, the fake client endpoints,
 * the sessions by endpoint (to route what intercept relays), the connection cap and the pacing clock.
 * Opens one {@link TcpSession} per captured session (the consumer thread calls {@link #open}).
 */
final class TcpEngine implements SessionTable.Opener, SessionDrain.Sessions, AutoCloseable {
    private static final long ENDPOINT_RETRY_MILLIS = 250;
    final TcpCounters counters;
    final EventLoop loop;
    final AtomicLong pendingBytes = new AtomicLong();
    final AtomicInteger starvedSlots = new AtomicInteger();
    final long quietNanos;
    final long responseTimeoutNanos;
    final long handshakeNanos;
    final long idleNanos;
    final int mtu;
    final EventBatch batch;

    private final EventLoopGroup group;
    private final PacketOutput sender;
    private final SegmentWriter writer = new SegmentWriter();
    private final PacketView relayed = new PacketView();
    private final ClientEndpoints endpoints;
    private final byte[] target;
    private final int targetPort;
    private final int maxConnections;
    private final double speed;
    private final HashMap<Long, TcpSession> byEndpoint = new HashMap<>();
    private final ArrayDeque<TcpSession> waiting = new ArrayDeque<>();
    private final java.util.HashSet<TcpSession> all = new java.util.HashSet<>();
    private final AtomicInteger live = new AtomicInteger();
    private final AtomicInteger waitingCount = new AtomicInteger();
    private int active;
    private boolean retryScheduled;
    private boolean exhausted;
    private long srttNanos;
    private long rttVarNanos;
    private volatile boolean anchored;
    private volatile long anchorTsMicros;
    private volatile long anchorNanos;

    // Set by the consumer thread just before a packet goes to the session table, read by open() on that thread.
    private SynOptions nextSyn = SynOptions.FABRICATED;
    private int nextCopy;

    TcpEngine(InetSocketAddress target, ReplaySpeed speed, ReplayTuning tuning, TcpEngineOptions tcp,
              ClientEndpoints endpoints, TcpCounters counters) {
        this(target, speed, tuning, tcp, endpoints, counters, null);
    }

    /** An engine sending through {@code output}, or through a raw socket opened here when it is null. */
    TcpEngine(InetSocketAddress target, ReplaySpeed speed, ReplayTuning tuning, TcpEngineOptions tcp,
              ClientEndpoints endpoints, TcpCounters counters, PacketOutput output) {
        this.counters = counters;
        this.endpoints = endpoints;
        this.target = target.getAddress().getAddress();
        this.targetPort = target.getPort();
        if (this.target.length != endpoints.range().addressLength()) {
            throw new dev.trafficbus.cli.UserInputException("--client-range " + endpoints.range() + " and --target "
                    + target.getAddress().getHostAddress() + " are not the same IP version");
        }
        this.speed = speed.factor();
        this.maxConnections = tuning.maxConnections();
        this.quietNanos = tuning.quietPeriod().toNanos();
        this.responseTimeoutNanos = tuning.responseTimeout().toNanos();
        this.handshakeNanos = tcp.handshakeTimeout().toNanos();
        this.idleNanos = tcp.idleTimeout().toNanos();
        this.mtu = tcp.mtu();
        this.sender = output != null ? output : new RawSender(this.target.length == 16);
        try {
            this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("trafficbus-tcp-engine", true),
                    NioIoHandler.newFactory());
        } catch (RuntimeException | Error e) {
            sender.close(); // nobody else holds the raw socket yet
            throw e;
        }
        this.loop = group.next();
        this.batch = new EventBatch(loop);
    }

    /** The event loop group intercept channels run on (the engine thread). */
    EventLoopGroup group() {
        return group;
    }

    int addressLength() {
        return target.length;
    }

    @Override
    public int liveSessions() {
        return live.get();
    }

    /** Sessions waiting for a connection slot or a free endpoint. */
    int waitingSessions() {
        return waitingCount.get();
    }

    // ---- consumer thread ------------------------------------------------------------------------------

    /** Consumer thread: the options and copy index of the packet about to be given to a session table. */
    void nextPacket(SynOptions syn, int copy) {
        nextSyn = syn;
        nextCopy = copy;
    }

    /** Consumer thread: anchors the pacing clock on the first record; later calls do nothing. */
    void anchor(long tsMicros, long nowNanos) {
        if (!anchored) {
            anchorTsMicros = tsMicros;
            anchorNanos = nowNanos;
            anchored = true;
        }
    }

    @Override
    public SessionEvents open(FlowKey key, long firstTsMicros, int partition) {
        counters.sessionsSeen.increment();
        live.incrementAndGet();
        String name = nextCopy == 0 ? key.toString() : key + " copy " + nextCopy;
        TcpSession s = new TcpSession(this, name, firstTsMicros, nextSyn);
        batch.add(() -> {
            all.add(s);
            s.advance();
        });
        return new SessionEvents() {
            @Override
            public void message(int index, byte[] bytes, long captureTimeMicros) {
                pendingBytes.addAndGet(bytes.length);
                batch.add(() -> s.onMessage(index, bytes, captureTimeMicros));
            }

            @Override
            public void expectedResponse(int index, long bytes, boolean settled) {
                batch.add(() -> s.onExpected(index, bytes, settled));
            }

            @Override
            public void end(SessionEnd end) {
                batch.add(() -> s.onCapturedEnd(end));
            }
        };
    }

    // ---- engine thread --------------------------------------------------------------------------------

    long sessionStartDue(long tsMicros) {
        if (Double.isInfinite(speed) || !anchored) {
            return Long.MIN_VALUE;
        }
        return anchorNanos + (long) ((tsMicros - anchorTsMicros) * 1000.0 / speed);
    }

    long dueAfter(long startNanos, long deltaMicros) {
        if (Double.isInfinite(speed)) {
            return Long.MIN_VALUE;
        }
        return startNanos + (long) (deltaMicros * 1000.0 / speed);
    }

    /**
     * Feeds one round-trip sample (a segment acknowledged without retransmission) into the estimate shared by
     * all sessions: they all talk to one target over one path, and short sessions take too few samples alone.
     */
    void rttSample(long nanos) {
        if (srttNanos == 0) {
            srttNanos = nanos;
            rttVarNanos = nanos / 2;
        } else {
            long err = nanos - srttNanos;
            srttNanos += err / 8;
            rttVarNanos += (Math.abs(err) - rttVarNanos) / 4;
        }
    }

    /** Retransmission timeout from the shared estimate (RFC 6298), at least 200 ms, at most 3 s. */
    long rtoNanos() {
        if (srttNanos == 0) {
            return 300_000_000L;
        }
        return Math.min(3_000_000_000L, Math.max(200_000_000L, srttNanos + 4 * rttVarNanos));
    }

    /** Gives the session a connection slot and a fake endpoint, or queues it until one frees up. */
    boolean tryStart(TcpSession s) {
        if (active >= maxConnections) {
            queue(s);
            return false;
        }
        long id = endpoints.acquire(System.nanoTime());
        if (id < 0) {
            counters.problem("endpoints-exhausted");
            exhausted = true;
            queue(s);
            // Endpoints come back when their quarantine ends, not only when a session finishes: with none
            // running, nothing else would ever start the queued sessions.
            if (!retryScheduled) {
                retryScheduled = true;
                loop.schedule(() -> {
                    retryScheduled = false;
                    startWaiting();
                }, ENDPOINT_RETRY_MILLIS, TimeUnit.MILLISECONDS);
            }
            return false;
        }
        s.endpoint = id;
        endpoints.address(id, s.clientAddress, 0);
        s.clientPort = endpoints.port(id);
        byEndpoint.put(id, s);
        active++;
        return true;
    }

    private void queue(TcpSession s) {
        if (!s.queued) { // every captured message of a waiting session tries again; it is queued once
            s.queued = true;
            waiting.addLast(s);
            waitingCount.incrementAndGet();
        }
    }

    /** A session reached its outcome: frees its endpoint (into quarantine) and slot, starts waiting ones. */
    void finished(TcpSession s, boolean started) {
        live.decrementAndGet();
        all.remove(s);
        if (started && s.endpoint >= 0) {
            byEndpoint.remove(s.endpoint);
            endpoints.release(s.endpoint, System.nanoTime());
            active--;
        }
        startWaiting();
    }

    /** Starts queued sessions while slots are free (each one queues itself again if it still cannot start). */
    private void startWaiting() {
        int n = waiting.size();
        exhausted = false;
        for (int i = 0; i < n && active < maxConnections && !waiting.isEmpty() && !exhausted; i++) {
            TcpSession w = waiting.pollFirst();
            waitingCount.decrementAndGet();
            w.queued = false;
            if (!w.finished()) {
                w.advance();
            }
        }
    }

    /** Sends one segment of {@code s} to the target. */
    void emit(TcpSession s, long seq, long ack, int flags, int window, int options, byte[] payload, int off, int len) {
        emit(s, seq, ack, flags, window, options, payload, off, len, 0, 0);
    }

    void emit(TcpSession s, long seq, long ack, int flags, int window, int options, byte[] payload, int off, int len,
              int mss, int wscale) {
        int n = writer.write(s.clientAddress, target, s.clientPort, targetPort, seq, ack, flags, window, options, mss,
                wscale, payload, off, len);
        if (sender.send(writer.buffer(), n)) {
            counters.packetsSent.increment();
        } else {
            counters.problem("raw-send-failed");
        }
    }

    /**
     * A packet intercept relayed (from the IP header on, the payload possibly left out); routes it to its
     * session by destination endpoint. May rewrite the length field in {@code b}.
     */
    void onRelayed(byte[] b, int off, int len) {
        counters.packetsRelayed.increment();
        int wire = ipTotalLength(b, off, len);
        if (wire > len) {
            // Headers only: make the view see a whole packet, and take the payload length from the original.
            setIpTotalLength(b, off, len);
        }
        if (relayed.wrap(b, off, len, len) != PacketStatus.TCP) {
            counters.problem("relayed-not-tcp");
            return;
        }
        if (relayed.srcPort() != targetPort || relayed.addressLength() != target.length
                || !sameAddress(b, relayed.srcAddressOffset())) {
            counters.problem("relayed-not-from-target");
            return;
        }
        long id = endpoints.idOf(b, relayed.dstAddressOffset(), relayed.dstPort());
        TcpSession s = id < 0 ? null : byEndpoint.get(id);
        if (s == null) {
            counters.problem("relayed-after-end"); // e.g. a retransmission that crossed our final RST
            return;
        }
        int payload = wire > len ? wire - (relayed.payloadOffset() - off) : relayed.payloadLength();
        s.onServerPacket(relayed, Math.max(0, payload));
    }

    private static int ipTotalLength(byte[] b, int off, int len) {
        if (len < 20) {
            return len;
        }
        int version = (b[off] & 0xF0) >>> 4;
        if (version == 4) {
            return ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
        }
        if (version == 6 && len >= 40) {
            return 40 + (((b[off + 4] & 0xFF) << 8) | (b[off + 5] & 0xFF));
        }
        return len;
    }

    private static void setIpTotalLength(byte[] b, int off, int len) {
        int v = (b[off] & 0xF0) >>> 4 == 4 ? len : len - 40;
        int at = (b[off] & 0xF0) >>> 4 == 4 ? off + 2 : off + 4;
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private boolean sameAddress(byte[] b, int off) {
        for (int i = 0; i < target.length; i++) {
            if (b[off + i] != target[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void interruptAll() {
        loop.execute(() -> {
            for (TcpSession s : new ArrayList<>(all)) {
                s.interrupt();
            }
        });
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        sender.close();
    }
}
