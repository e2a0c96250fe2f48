package dev.trafficbus.replay.tcp;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.SessionReplay;
import dev.trafficbus.replay.conversation.TargetHandler;
import dev.trafficbus.replay.conversation.Transport;
import dev.trafficbus.replay.tls.TlsFailures;
import dev.trafficbus.session.TcpSeq;

/**
 * The tcp engine's transport for one replayed session: a TCP connection played from a fake client endpoint with
 * raw packets, the test server's side seen through what intercept relays. It owns the connection's TCP states
 * (handshake, the server's sequence space, our ACKs, FIN/RST, the close wait) and reports to the
 * {@link SessionReplay} what the conversation needs: connected, answer bytes, closed or reset by the target.
 * Our sequence space and retransmission are the {@link TcpSender}'s. Runs on the engine thread only.
 */
final class TcpSession implements Transport {
    /**
     * The connection's own states, below the conversation. CLOSE_PENDING waits for the server to acknowledge what
     * was sent; CLOSE_DUE waits for the engine's flush to choose between our FIN and a reset alone.
     */
    enum Link { IDLE, SYN_SENT, OPEN, CLOSE_PENDING, CLOSE_DUE, FIN_SENT, CLOSED }

    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;
    private static final long TLS_TIMER_POLL_NANOS = 100_000_000L;

    private final TcpEngine engine;
    private final SessionReplay session;
    private final TcpSender sender;

    Link link = Link.IDLE;
    long endpoint = -1;
    final byte[] clientAddress;
    int clientPort;
    boolean queued; // in the engine's queue of sessions waiting for a connection slot or an endpoint

    /** The next byte expected from the server (acknowledged in every segment we send). */
    long rcvNxt;
    private boolean serverFin;
    private boolean serverRst;
    private boolean clientReset;
    private long startNanos;
    private long synDeadline;
    private long closeDeadline;
    /** The session's first message (SNI and ALPN of its TLS), null when it has none. */
    private byte[] first;
    /** Null unless the target speaks TLS. */
    private TcpTls tls;
    /** When the TLS handshake fails for taking too long (its handler's timer runs on the session's). */
    private long tlsDeadline;

    TcpSession(TcpEngine engine, SessionReplay session, SynOptions synOptions) {
        this.engine = engine;
        this.session = session;
        this.clientAddress = new byte[engine.addressLength()];
        this.sender = new TcpSender(engine, this, synOptions);
    }

    // ---- what the session asks ----

    @Override
    public boolean open(byte[] first, long now) {
        if (!engine.tryStart(this)) {
            return false; // the engine wakes the session when a slot or endpoint frees up
        }
        this.first = first;
        startNanos = now;
        synDeadline = now + engine.handshakeNanos;
        link = Link.SYN_SENT;
        sender.start(now);
        arm(sender.timerDeadline());
        return true;
    }

    @Override
    public void send(byte[] bytes, long now) {
        if (tls != null) {
            tls.write(bytes); // its records reach sender through the peer
            return;
        }
        // Into our own sequence space: a rewrite that changes the length moves every later sequence number with it.
        sender.append(bytes);
        sender.pump(now);
    }

    @Override
    public void close(boolean reset, long now) {
        if (tls != null && !reset) {
            tls.close(); // close_notify, sent before our FIN
        }
        clientReset = reset;
        link = Link.CLOSE_PENDING;
        closing(now);
    }

    @Override
    public void idle() {
        sender.armRetransmit();
    }

    @Override
    public void timer(long now) {
        if (tls != null) {
            tls.runTasks(); // a handshake past its time fails here, through the session's failed()
            if (session.finished()) {
                return;
            }
            if (tls.handshaking()) {
                if (now - tlsDeadline >= 0) {
                    // The handler's own timer is not due yet: its handshake started later, after the one it waited
                    // for (resumption). Looked at again shortly, until it is.
                    tlsDeadline = now + TLS_TIMER_POLL_NANOS;
                }
                arm(tlsDeadline); // the session has one timer: an earlier one may have taken its place
            }
        }
        if (link == Link.SYN_SENT) {
            if (now - synDeadline >= 0) {
                session.openFailed(ReplayProblem.CONNECT_TIMEOUT);
                return;
            }
            sender.synTimer(now);
            long rto = sender.timerDeadline();
            arm(rto - synDeadline < 0 ? rto : synDeadline);
            return;
        }
        if (!sender.retransmitTimer(now)) {
            session.fail(ReplayProblem.IDLE_TIMEOUT);
            return;
        }
        closing(now);
    }

    @Override
    public void release() {
        // A connection the server has not reset is reset: its side is freed at once, no TIME_WAIT kept there.
        if (link != Link.IDLE && link != Link.CLOSED && !serverRst) {
            sender.sendReset();
        }
        link = Link.CLOSED;
        if (tls != null) {
            tls.release();
        }
        engine.finished(this);
    }

    /** Wakes the session (a slot or endpoint may be free). */
    void wake() {
        session.advance();
    }

    boolean finished() {
        return session.finished();
    }

    /** Makes sure the session's timer runs by {@code at} (nanoTime). */
    void arm(long at) {
        session.arm(at);
    }

    // ---- the close, once everything written is acknowledged ----

    private void closing(long now) {
        if (link == Link.CLOSE_PENDING) {
            if (serverRst) {
                closed();
                return;
            }
            if (sender.unacknowledged()) {
                sender.armRetransmit(); // the last request is not acknowledged yet
                return;
            }
            if (clientReset) {
                sender.sendReset();
                closed();
                return;
            }
            // Chosen after every packet relayed with the last answer has been read: the server's FIN is often among
            // them, and then no FIN of ours is needed (closeDue).
            link = Link.CLOSE_DUE;
            engine.closeLater(this);
            return;
        }
        if (link == Link.CLOSE_DUE) {
            if (serverRst) {
                closed();
            }
            return;
        }
        if (link == Link.FIN_SENT) {
            if (serverRst || (sender.finAcknowledged() && serverFin) || now - closeDeadline >= 0) {
                if (!serverRst) {
                    sender.sendReset(); // frees the test server's side at once, no TIME_WAIT kept there
                }
                closed();
                return;
            }
            arm(closeDeadline); // a retransmit timer armed earlier may have replaced it
            sender.armRetransmit();
        }
    }

    /**
     * The engine's flush after the close became due. A server that has closed its side already gets the reset alone,
     * which ends the connection and frees its side (no TIME_WAIT kept there): our FIN would only be acknowledged
     * before that same reset, a packet each way. Otherwise our FIN, then the close wait.
     */
    void closeDue(long now) {
        if (link != Link.CLOSE_DUE) {
            return; // reset by the server or released meanwhile
        }
        if (serverFin) {
            sender.sendReset();
            closed();
            return;
        }
        closeDeadline = now + CLOSE_WAIT_NANOS;
        link = Link.FIN_SENT;
        sender.close(now);
        arm(closeDeadline);
    }

    private void closed() {
        link = Link.CLOSED;
        session.closeDone();
    }

    // ---- the test server's packets, relayed by intercept ----

    void onServerPacket(PacketView v, int len) {
        if (link == Link.IDLE || link == Link.CLOSED || session.finished()) {
            return;
        }
        long now = System.nanoTime();
        int flags = v.flags();
        boolean ack = (flags & PacketView.ACK) != 0;
        if (link == Link.SYN_SENT) {
            if ((flags & PacketView.RST) != 0 && ack && sender.acksSyn(v.ackNumber())) {
                serverRst = true;
                session.openFailed(ReplayProblem.CONNECT_REFUSED);
            } else if ((flags & PacketView.SYN) != 0 && ack && sender.acksSyn(v.ackNumber())) {
                rcvNxt = TcpSeq.add(v.seq(), 1);
                sender.established(v, now - startNanos, now);
                link = Link.OPEN;
                if (engine.speaksTls()) {
                    TlsPeer peer = new TlsPeer();
                    tls = engine.newTls(first, peer, peer); // its ClientHello first; the session's writes wait for it
                    tlsDeadline = now + engine.tlsHandshakeNanos() + 1_000_000L; // just after the handler's own
                    arm(tlsDeadline);
                }
                session.connected(now);
            }
            return;
        }
        if ((flags & PacketView.RST) != 0) {
            // Only a reset inside our window is believed (RFC 5961 in spirit).
            if (TcpSeq.diff(v.seq(), rcvNxt) >= 0 || v.seq() == TcpSeq.add(rcvNxt, -1)) {
                serverRst = true;
                session.targetClosed(ReplayProblem.TARGET_RESET, now);
                closing(now);
            }
            return;
        }
        if ((flags & PacketView.SYN) != 0) {
            sender.sendAck(); // our ACK of the SYN-ACK was lost: the server repeats it
            return;
        }
        boolean mustAck = false;
        if (ack) {
            sender.onAck(v.seq(), v.ackNumber(), v.window(), len == 0 && (flags & PacketView.FIN) == 0, now);
        }
        long seq = v.seq();
        int fresh = 0;
        boolean seen = false;
        if (len > 0) {
            long segEnd = TcpSeq.add(seq, len);
            fresh = Math.min(TcpSeq.diff(segEnd, rcvNxt), len);
            if (fresh > 0) {
                seen = v.payloadLength() >= len && TcpSeq.diff(seq, rcvNxt) <= 0;
                // Bytes intercept did not relay are acknowledged too: the server must never stall on a hole.
                rcvNxt = segEnd;
                sender.progress(now);
            }
            mustAck = true;
        }
        boolean finNow = false;
        if ((flags & PacketView.FIN) != 0) {
            long finAt = TcpSeq.add(seq, len);
            if (!serverFin && TcpSeq.diff(finAt, rcvNxt) >= 0) {
                serverFin = finNow = true;
                rcvNxt = TcpSeq.add(finAt, 1);
            }
            mustAck = true;
        }
        if (mustAck) {
            sender.sendAck(); // before whatever the session sends in turn
        }
        if (fresh > 0) {
            answer(v, len, fresh, seen, now);
        }
        if (finNow) {
            session.targetClosed(ReplayProblem.TARGET_CLOSED, now);
        }
        if (!session.finished()) {
            closing(now);
        }
    }

    /**
     * Hands the {@code n} new answer bytes at the end of a segment ({@code len} bytes) to the session: their
     * content only when intercept relayed the payload ({@code --with-payload}) and nothing before them went
     * missing ({@code seen}), else only their count.
     */
    private void answer(PacketView v, int len, int n, boolean seen, long now) {
        if (tls != null) {
            if (seen) {
                tls.received(v.array(), v.payloadOffset() + len - n, n);
            } else {
                // Records cannot be decrypted without every byte of them: TLS needs intercept --with-payload.
                session.fail(ReplayProblem.ANSWER_UNSEEN);
            }
            return;
        }
        if (seen) {
            session.received(v.array(), v.payloadOffset() + len - n, n, now);
        } else {
            session.receivedUnseen(n, now);
        }
    }

    /** What the connection's TLS produces: records to send, decrypted answers, failures. */
    private final class TlsPeer implements TcpTls.Wire, TargetHandler.Connection {
        @Override
        public void ciphertext(byte[] bytes) {
            if (link != Link.CLOSED) {
                sender.append(bytes);
            }
        }

        @Override
        public void flush() {
            if (link != Link.CLOSED) {
                sender.pump(System.nanoTime());
            }
        }

        @Override
        public void received(byte[] b, int off, int len, long now) {
            session.received(b, off, len, now);
        }

        @Override
        public void inactive() {
            // our own close of the TLS channel: the connection's end is TCP's
        }

        @Override
        public void failed(Throwable cause) {
            ReplayProblem tlsProblem = TlsFailures.classify(cause);
            session.targetClosed(tlsProblem != null ? tlsProblem : ReplayProblem.TARGET_ERROR, System.nanoTime());
        }
    }

    @Override
    public String toString() {
        return session.toString();
    }
}
