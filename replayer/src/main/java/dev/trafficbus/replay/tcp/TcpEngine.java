package dev.trafficbus.replay.tcp;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.conversation.EngineSessions;
import dev.trafficbus.replay.conversation.SessionReplay;
import dev.trafficbus.replay.conversation.TargetHandler;
import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.replay.intake.Engine;
import dev.trafficbus.replay.intake.EngineContext;
import dev.trafficbus.replay.intake.ReplayClock;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.tls.TlsClient;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.SessionKey;
import dev.trafficbus.session.SessionTable;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntPredicate;

/**
 * The tcp engine's shared parts, all driven by one engine thread: the raw sender, the fake client endpoints,
 * the sessions by endpoint (to route what intercept relays), the connection cap and the settings every
 * {@link TcpSession} shares. Opens one tcp session per captured session (the consumer thread calls {@link #open}).
 */
final class TcpEngine implements SessionTable.Opener, Engine {
    private static final long ENDPOINT_RETRY_MILLIS = 250;
    final EngineContext context;
    final ReplayCounters counters;
    final ReplayClock clock;
    /** What every session shares: counters, answers, the mailbox, the sessions without an outcome. */
    private final EngineSessions sessions;
    final EventLoop loop;
    final long handshakeNanos;
    final long idleNanos;
    final int mtu;
    /** Segments written to the raw socket, and packets intercept relayed. */
    final LongAdder packetsSent = new LongAdder();
    final LongAdder packetsRelayed = new LongAdder();

    private final EventLoopGroup group;
    private final PacketOutput sender;
    private final SegmentWriter writer = new SegmentWriter();
    private final PacketView relayed = new PacketView();
    private final ClientEndpoints endpoints;
    private final byte[] target;
    private final int targetPort;
    private final int maxConnections;
    /** Live sessions by endpoint, keyed by {@link #spread}: looked up for every relayed packet, so not boxed. */
    private final LongObjectHashMap<TcpSession> byEndpoint = new LongObjectHashMap<>();
    private final ArrayDeque<TcpSession> waiting = new ArrayDeque<>();
    private final AtomicInteger waitingCount = new AtomicInteger();
    /** Written by the loop only; read by the consumer thread for its throttle. */
    private volatile int active;
    private boolean retryScheduled;
    private boolean exhausted;
    private InterceptClient intercept;
    private final Runnable flushTask = this::flushPackets;
    private boolean flushQueued;
    /** Sessions owing the server an ACK, sent at the flush unless a segment of theirs carried it first. */
    private final ArrayList<TcpSender> acksDue = new ArrayList<>();
    /** Sessions whose close waits for the flush to choose between FIN and reset (before the ACKs: a reset carries one). */
    private final ArrayList<TcpSession> closesDue = new ArrayList<>();
    /** Null unless the target speaks TLS. */
    private final TlsClient tls;
    /** TLS connections waiting for an earlier handshake to the same name before starting their own. */
    private final ArrayList<TcpTls> gated = new ArrayList<>();
    private long srttNanos;
    private long rttVarNanos;

    /** An engine of the run {@code ctx} sending through {@code output}, or through a raw socket opened here when it is null. */
    TcpEngine(EngineContext ctx, TcpEngineOptions tcp, ClientEndpoints endpoints, PacketOutput output) {
        ReplayTuning tuning = ctx.tuning();
        InetSocketAddress target = ctx.request().target();
        this.context = ctx;
        this.counters = ctx.counters();
        this.clock = ctx.clock();
        this.sessions = new EngineSessions(ctx);
        this.endpoints = endpoints;
        this.target = target.getAddress().getAddress();
        this.targetPort = target.getPort();
        if (this.target.length != endpoints.range().addressLength()) {
            throw new dev.trafficbus.cli.UserInputException("--client-range " + endpoints.range() + " and --target "
                    + target.getAddress().getHostAddress() + " are not the same IP version");
        }
        this.maxConnections = tuning.maxConnections();
        this.handshakeNanos = tcp.handshakeTimeout().toNanos();
        this.idleNanos = tcp.idleTimeout().toNanos();
        this.mtu = tcp.mtu();
        this.tls = TlsClient.of(ctx.options(), tuning, counters);
        this.sender = output != null ? output : new RawSender(this.target.length == 16);
        try {
            this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("trafficbus-tcp-engine", true),
                    NioIoHandler.newFactory());
        } catch (RuntimeException | Error e) {
            sender.close(); // nobody else holds the raw socket yet
            throw e;
        }
        this.loop = group.next();
        MetricsEndpoint m = ctx.options().metrics();
        if (m != null) {
            m.functionCounter("tcp_packets_sent", packetsSent, LongAdder::sum);
            m.functionCounter("tcp_packets_relayed", packetsRelayed, LongAdder::sum);
        }
    }

    /** True when the target speaks TLS. */
    boolean speaksTls() {
        return tls != null;
    }

    /** How long a TLS handshake may take (nanoseconds), when {@link #speaksTls}. */
    long tlsHandshakeNanos() {
        return TimeUnit.MILLISECONDS.toNanos(tls.handshakeTimeoutMillis());
    }

    /**
     * TLS for a connection of a session whose first message is {@code first} (may be null), to a target that
     * {@link #speaksTls}. Offers the server name and ALPN protocol the socket engine would.
     */
    TcpTls newTls(byte[] first, TcpTls.Wire wire, TargetHandler.Connection session) {
        String name = tls.serverName(first, context.options().http().hostOverride(),
                context.request().target().getHostString());
        TcpTls t = new TcpTls(tls, name, targetPort, first, tls.insecure() ? counters : null, wire, session);
        if (t.gated()) {
            gated.add(t);
            flushLater();
        }
        return t;
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
        return sessions.liveSessions();
    }

    // ---- consumer thread ------------------------------------------------------------------------------

    @Override
    public SessionEvents open(FlowKey key, long firstTsMicros, int partition) {
        return open(new SessionKey(key, 0), firstTsMicros, partition, -1, "", null);
    }

    @Override
    public SessionReplay open(SessionKey key, long firstTsMicros, int partition, long offset, String source,
                              PacketView first) {
        boolean clientSyn = first != null && first.hasFlag(PacketView.SYN) && !first.hasFlag(PacketView.ACK);
        SynOptions syn = clientSyn ? SynOptions.of(first) : SynOptions.FABRICATED;
        // Answers come headers-only unless intercept relays payloads: requests are read as HTTP only where the
        // run needs it (rewrites, response records, a middleware), not for the report's status codes alone (a cost
        // per request).
        HttpExchanges http = context.newExchanges();
        return sessions.open(key, firstTsMicros, partition, offset, source, loop, http,
                s -> new TcpSession(this, s, syn));
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
        return maxConnections;
    }

    @Override
    public int slotsInUse() {
        return active;
    }

    @Override
    public int starvedSlots() {
        return sessions.starvedSlots();
    }

    @Override
    public boolean starvedOn(int partition) {
        return sessions.starvedOn(partition);
    }

    /** Sessions waiting for a connection slot or a free endpoint. */
    @Override
    public int sessionsWaitingForSlot() {
        return waitingCount.get();
    }

    @Override
    public int liveSessions(IntPredicate partitions) {
        return sessions.liveSessions(partitions);
    }

    @Override
    public void interrupt(IntPredicate partitions) {
        sessions.interrupt(partitions);
    }

    @Override
    public Map<String, Object> figures() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("packetsSent", packetsSent.sum());
        m.put("packetsRelayed", packetsRelayed.sum());
        return m;
    }

    // ---- engine thread --------------------------------------------------------------------------------

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
            counters.problem(ReplayProblem.ENDPOINTS_EXHAUSTED);
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
        byEndpoint.put(spread(id), s);
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

    /**
     * The map key of endpoint {@code id}. Endpoints are handed out in sequence, and the map places a key by its
     * low bits: consecutive ids filled one run of slots, and every removal shifted the rest of the run back
     * (2.6 % of the tcp engine's CPU on P4). An odd multiplier is a bijection that scatters them.
     */
    private static long spread(long id) {
        return id * 0x9E3779B97F4A7C15L;
    }

    /** A session reached its outcome: frees its endpoint (into quarantine) and slot, starts waiting ones. */
    void finished(TcpSession s) {
        if (s.endpoint >= 0) {
            byEndpoint.remove(spread(s.endpoint));
            endpoints.release(s.endpoint, System.nanoTime());
            s.endpoint = -1;
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
                w.wake();
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
            packetsSent.increment();
            flushLater();
        } else {
            counters.problem(ReplayProblem.RAW_SEND_FAILED);
        }
    }

    /** {@code s} owes the server an ACK: sent by the next flush unless a segment of {@code s} carries it first. */
    void ackLater(TcpSender s) {
        acksDue.add(s);
        flushLater();
    }

    /** {@code s} is to close: {@link TcpSession#closeDue} chooses how at the next flush. */
    void closeLater(TcpSession s) {
        closesDue.add(s);
        flushLater();
    }

    private void flushLater() {
        if (!flushQueued) {
            // Everything the loop's current tasks send leaves together, after them (one system call per batch).
            flushQueued = true;
            loop.execute(flushTask);
        }
    }

    private void flushPackets() {
        if (!gated.isEmpty()) {
            // A handshake that ended in the tasks just run opened the gate of those waiting for it.
            gated.removeIf(t -> {
                t.runTasks();
                return !t.gated();
            });
        }
        if (!closesDue.isEmpty()) {
            long now = System.nanoTime();
            for (int i = 0; i < closesDue.size(); i++) {
                closesDue.get(i).closeDue(now);
            }
            closesDue.clear();
        }
        for (int i = 0; i < acksDue.size(); i++) {
            acksDue.get(i).flushAck();
        }
        acksDue.clear();
        flushQueued = false;
        int refused = sender.flush();
        if (refused > 0) {
            packetsSent.add(-refused);
            counters.problem(ReplayProblem.RAW_SEND_FAILED, refused);
        }
    }

    /**
     * A packet intercept relayed (from the IP header on, the payload possibly left out); routes it to its
     * session by destination endpoint. May rewrite the length field in {@code b}.
     */
    void onRelayed(byte[] b, int off, int len) {
        packetsRelayed.increment();
        int wire = ipTotalLength(b, off, len);
        if (wire > len) {
            // Headers only: make the view see a whole packet, and take the payload length from the original.
            setIpTotalLength(b, off, len);
        }
        if (relayed.wrap(b, off, len, len) != PacketStatus.TCP) {
            counters.problem(ReplayProblem.RELAYED_NOT_TCP);
            return;
        }
        if (relayed.srcPort() != targetPort || relayed.addressLength() != target.length
                || !sameAddress(b, relayed.srcAddressOffset())) {
            counters.problem(ReplayProblem.RELAYED_NOT_FROM_TARGET);
            return;
        }
        long id = endpoints.idOf(b, relayed.dstAddressOffset(), relayed.dstPort());
        TcpSession s = id < 0 ? null : byEndpoint.get(spread(id));
        if (s == null) {
            counters.problem(ReplayProblem.RELAYED_AFTER_END); // e.g. a retransmission that crossed our final RST
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
        interrupt(p -> true);
    }

    /** The intercept connections that relay the answers: closed with the engine, asked after the drain. */
    void relayedBy(InterceptClient client) {
        this.intercept = client;
    }

    @Override
    public void drained() {
        if (intercept != null) {
            intercept.failIfRefused();
        }
    }

    @Override
    public void close() {
        try {
            if (intercept != null) {
                intercept.close();
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            sender.close();
        }
    }
}
