package dev.trafficbus.replay.tcp;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.TcpSeq;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One captured session replayed as raw TCP from a fake client endpoint: the whole state machine in one place.
 * Events (captured messages, the test server's packets relayed by intercept, timers) update the TCP variables,
 * then {@link #advance()} moves the states:
 * WAITING → SYN_SENT → (AWAITING_ANSWER ⇄ SENDING)* → FIN_SENT → DONE, or FAILED from anywhere.
 * Side effects go through the engine (packets, endpoints, counters). Runs on the engine thread only.
 */
final class TcpSession {
    enum State { WAITING, SYN_SENT, AWAITING_ANSWER, SENDING, FIN_SENT, DONE, FAILED }

    private enum Answer { WAIT, ANSWERED, TIMED_OUT, CLOSED_UNANSWERED }

    private static final long SYN_RTO_NANOS = 1_000_000_000L;
    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;
    // Everything the server sends is taken at once, so our window never closes.
    private static final int OUR_WINDOW = 65535;
    private static final int OUR_WSCALE = 7;

    private final TcpEngine engine;
    private final long firstTsMicros;
    private final SynOptions synOptions;
    final String name;

    State state = State.WAITING;
    long endpoint = -1;
    final byte[] clientAddress;
    int clientPort;

    // Captured side.
    private final ArrayList<CapturedMessage> messages = new ArrayList<>();
    private int firstKept;
    private int nextToSend;
    private int awaiting = -1;
    private long greetingExpected;
    private boolean greetingSettled;
    private SessionEnd end;
    private boolean everSent;

    // Send side (our sequence space).
    private long iss;
    private long sndUna;
    private long sndNxt;
    private long sndMax;
    private long sndWnd;
    private long sndWl1; // seq and ack of the segment that last set sndWnd (RFC 9293)
    private long sndWl2;
    private int sndScale;
    private int peerMss = 536;
    private final UnackedBytes out = new UnackedBytes();
    private boolean finQueued;
    private long finSeq;
    private boolean finAcked;
    private int dupAcks;
    private final RetransmitTimer rtx = new RetransmitTimer();
    private long lastProgressNanos;

    // Receive side (the test server's sequence space).
    private long rcvNxt;
    private boolean serverFin;
    private boolean serverRst;
    private long received;
    private long lastReadNanos;

    // Timing.
    private long startNanos;
    private long synDeadline;
    private long sentAtNanos;
    private long waitUntil;
    private long closeDeadline;
    private ScheduledFuture<?> timer;
    private long timerAt;
    private boolean starved;
    boolean queued; // in the engine's queue of sessions waiting for a connection slot or an endpoint

    TcpSession(TcpEngine engine, String name, long firstTsMicros, SynOptions synOptions) {
        this.engine = engine;
        this.name = name;
        this.firstTsMicros = firstTsMicros;
        this.synOptions = synOptions;
        this.clientAddress = new byte[engine.addressLength()];
    }

    void onMessage(int index, byte[] bytes, long tsMicros) {
        if (finished()) {
            engine.pendingBytes.addAndGet(-bytes.length);
            return;
        }
        messages.add(new CapturedMessage(bytes, tsMicros));
        advance();
    }

    void onExpected(int index, long bytes, boolean settled) {
        if (index < 0) {
            greetingExpected = bytes;
            greetingSettled |= settled;
        } else if (index >= firstKept && index - firstKept < messages.size()) {
            CapturedMessage m = messages.get(index - firstKept);
            m.expected = bytes;
            m.settled |= settled;
        }
        advance(); // nothing happens once finished
    }

    void onCapturedEnd(SessionEnd e) {
        end = e;
        advance();
    }

    void onServerPacket(PacketView v, int len) {
        if (finished() || state == State.WAITING) {
            return;
        }
        long now = System.nanoTime();
        int flags = v.flags();
        boolean ack = (flags & PacketView.ACK) != 0;
        if (state == State.SYN_SENT) {
            if ((flags & PacketView.RST) != 0 && ack && v.ackNumber() == TcpSeq.add(iss, 1)) {
                fail("connection-refused", false);
            } else if ((flags & PacketView.SYN) != 0 && ack && v.ackNumber() == TcpSeq.add(iss, 1)) {
                established(v, now);
            }
            return;
        }
        if ((flags & PacketView.RST) != 0) {
            // Only a reset inside our window is believed (RFC 5961 in spirit).
            if (TcpSeq.diff(v.seq(), rcvNxt) >= 0 || v.seq() == TcpSeq.add(rcvNxt, -1)) {
                serverRst = true;
                advance();
            }
            return;
        }
        if ((flags & PacketView.SYN) != 0) {
            sendAck(); // our ACK of the SYN-ACK was lost: the server repeats it
            return;
        }
        boolean mustAck = false;
        if (ack) {
            onAck(v.seq(), v.ackNumber(), v.window(), len == 0 && (flags & PacketView.FIN) == 0, now);
        }
        long seq = v.seq();
        if (len > 0) {
            long segEnd = TcpSeq.add(seq, len);
            int fresh = TcpSeq.diff(segEnd, rcvNxt);
            if (fresh > 0) {
                // Bytes intercept did not relay are acknowledged too: the server must never stall on a hole.
                rcvNxt = segEnd;
                received += Math.min(fresh, len);
                engine.counters.bytesReceived.add(Math.min(fresh, len));
                lastReadNanos = now;
                lastProgressNanos = now;
            }
            mustAck = true;
        }
        if ((flags & PacketView.FIN) != 0) {
            long finAt = TcpSeq.add(seq, len);
            if (!serverFin && TcpSeq.diff(finAt, rcvNxt) >= 0) {
                serverFin = true;
                rcvNxt = TcpSeq.add(finAt, 1);
            }
            mustAck = true;
        }
        if (mustAck) {
            sendAck();
        }
        advance();
    }

    private void established(PacketView v, long now) {
        rcvNxt = TcpSeq.add(v.seq(), 1);
        sndUna = TcpSeq.add(iss, 1);
        sndNxt = sndUna;
        sndMax = sndUna;
        int ws = v.windowScaleOption();
        if (synOptions.wscale() >= 0 && ws >= 0) {
            sndScale = Math.min(ws, 14);
        }
        sndWnd = v.window(); // not scaled in a SYN
        sndWl1 = v.seq();
        sndWl2 = v.ackNumber();
        int mss = v.mssOption();
        peerMss = mss > 0 ? mss : 536;
        lastProgressNanos = now;
        if (rtx.rto() == SYN_RTO_NANOS) {
            engine.rttSample(now - startNanos); // the SYN was not retransmitted: a clean sample
        }
        rtx.restart(engine.rtoNanos(), now);
        sendAck();
        state = State.AWAITING_ANSWER;
        awaiting = -1;
        sentAtNanos = now;
        advance();
    }

    private void onAck(long seq, long ackNo, int window, boolean pure, long now) {
        int advanced = TcpSeq.diff(ackNo, sndUna);
        if (advanced > 0 && TcpSeq.diff(ackNo, sndMax) <= 0) {
            out.drop(advanced);
            if (finQueued && TcpSeq.diff(ackNo, finSeq) > 0) {
                finAcked = true;
            }
            sndUna = ackNo;
            if (TcpSeq.diff(sndNxt, sndUna) < 0) {
                sndNxt = sndUna;
            }
            dupAcks = 0;
            long rtt = rtx.sample(ackNo, now);
            if (rtt >= 0) {
                engine.rttSample(rtt);
            }
            lastProgressNanos = now;
            rtx.restart(engine.rtoNanos(), now);
        } else if (advanced == 0 && pure && inFlight() > 0 && (long) window << sndScale == sndWnd) {
            if (++dupAcks == 3) {
                rtx.forget();
                engine.counters.problem("fast-retransmit");
                sendSegmentAt(sndUna);
            }
        }
        // A window from a segment older than the last one used (reordered, or relayed twice) is stale.
        if (advanced >= 0 && TcpSeq.diff(ackNo, sndMax) <= 0 && (TcpSeq.diff(seq, sndWl1) > 0
                || (seq == sndWl1 && TcpSeq.diff(ackNo, sndWl2) >= 0))) {
            sndWnd = (long) window << sndScale;
            sndWl1 = seq;
            sndWl2 = ackNo;
        }
        pump(now);
    }

    private void onTimer() {
        timer = null;
        if (finished()) {
            return;
        }
        long now = System.nanoTime();
        if (state == State.SYN_SENT) {
            if (now - synDeadline >= 0) {
                fail("handshake-timeout", true);
                return;
            }
            if (rtx.due(now)) {
                engine.counters.problem("syn-retransmit");
                sendSyn();
                rtx.backOff(now);
            }
            arm(rtx.deadline() - synDeadline < 0 ? rtx.deadline() : synDeadline);
            return;
        }
        // A closed window with data waiting: probe until it opens, even when the last probe byte is in flight.
        boolean probe = sndWnd <= 0 && out.length() > 0;
        if ((probe || inFlight() > 0) && rtx.due(now)) {
            if (now - lastProgressNanos >= engine.idleNanos) {
                fail("idle-timeout", true);
                return;
            }
            rtx.backOff(now);
            if (probe) {
                // Zero window and nothing in flight: one byte past it makes the server tell its window again.
                engine.counters.problem("zero-window-probe");
                sendData(sndUna, 0, 1, out.length() == 1);
                sndNxt = TcpSeq.add(sndUna, 1);
                sndMax = TcpSeq.diff(sndNxt, sndMax) > 0 ? sndNxt : sndMax;
            } else {
                engine.counters.problem("retransmit-timeout");
                sndNxt = sndUna; // go back: everything after the last ACK is sent again
                pump(now);
            }
        }
        advance();
    }

    /** Moves through the states as far as the current facts allow, arming a timer for whatever it waits on. */
    void advance() {
        while (true) {
            long now = System.nanoTime();
            switch (state) {
                case WAITING -> {
                    if (end != null && messages.isEmpty() && greetingExpected == 0) {
                        engine.counters.problem("no-client-data");
                        finish(State.DONE, SessionOutcome.NOT_REPLAYED);
                        return;
                    }
                    long due = engine.sessionStartDue(firstTsMicros);
                    if (notYet(due, now)) {
                        arm(due);
                        return;
                    }
                    if (!engine.tryStart(this)) {
                        return; // the engine calls advance() again when a slot or endpoint frees up
                    }
                    startNanos = now;
                    iss = ThreadLocalRandom.current().nextInt() & 0xffffffffL;
                    synDeadline = now + engine.handshakeNanos;
                    rtx.restart(SYN_RTO_NANOS, now);
                    state = State.SYN_SENT;
                    sendSyn();
                    arm(rtx.deadline());
                    return;
                }
                case AWAITING_ANSWER -> {
                    switch (answer(now)) {
                        case WAIT -> {
                            arm(waitUntil);
                            armRetransmit();
                            return;
                        }
                        case ANSWERED -> {
                            if (awaiting >= 0) {
                                engine.counters.messagesAnswered.increment();
                            }
                        }
                        case TIMED_OUT -> engine.counters.problem("response-timeout");
                        case CLOSED_UNANSWERED -> {
                            fail(serverRst ? "target-reset" : "target-closed", !serverRst);
                            return;
                        }
                    }
                    state = State.SENDING;
                }
                case SENDING -> {
                    if (nextToSend < firstKept + messages.size()) {
                        if (serverFin || serverRst) {
                            fail(serverRst ? "target-reset" : "target-closed", !serverRst);
                            return;
                        }
                        CapturedMessage m = messages.get(nextToSend - firstKept);
                        long due = engine.dueAfter(startNanos, m.tsMicros - firstTsMicros);
                        if (notYet(due, now)) {
                            arm(due);
                            armRetransmit();
                            return;
                        }
                        setStarved(false);
                        send(m, now);
                        state = State.AWAITING_ANSWER;
                    } else if (end != null) {
                        setStarved(false);
                        if (serverRst) {
                            finish(State.DONE, outcomeOfEnd());
                            return;
                        }
                        if (out.length() > 0) {
                            armRetransmit(); // the last request is not acknowledged yet
                            return;
                        }
                        if (end.clientReset()) {
                            sendReset();
                            finish(State.DONE, outcomeOfEnd());
                            return;
                        }
                        finQueued = true;
                        finSeq = sndNxt;
                        closeDeadline = now + CLOSE_WAIT_NANOS;
                        state = State.FIN_SENT;
                        pump(now);
                        arm(closeDeadline);
                        return;
                    } else {
                        setStarved(true); // the next message is not captured yet
                        armRetransmit();
                        return;
                    }
                }
                case FIN_SENT -> {
                    if (serverRst || (finAcked && serverFin) || now - closeDeadline >= 0) {
                        if (!serverRst) {
                            sendReset(); // frees the test server's side at once, no TIME_WAIT kept there
                        }
                        finish(State.DONE, outcomeOfEnd());
                        return;
                    }
                    arm(closeDeadline); // a retransmit timer armed earlier may have replaced it
                    armRetransmit();
                    return;
                }
                default -> {
                    return; // SYN_SENT moves on packets and timers; DONE and FAILED are final
                }
            }
        }
    }

    private Answer answer(long now) {
        long expected;
        boolean settled;
        if (awaiting < 0) {
            expected = greetingExpected;
            settled = greetingSettled || !messages.isEmpty() || end != null;
        } else {
            CapturedMessage m = messages.get(awaiting - firstKept);
            expected = m.expected;
            settled = m.settled;
        }
        if (expected == 0 && settled) {
            return Answer.ANSWERED;
        }
        if (expected > 0 && received >= expected) {
            return Answer.ANSWERED;
        }
        if (serverFin || serverRst) {
            return received > 0 || awaiting < 0 ? Answer.ANSWERED : Answer.CLOSED_UNANSWERED;
        }
        // A different length than captured, or not known yet: an answer that went quiet is complete.
        if (received > 0 && now - lastReadNanos >= engine.quietNanos) {
            return Answer.ANSWERED;
        }
        if (now - sentAtNanos >= engine.responseTimeoutNanos) {
            return Answer.TIMED_OUT;
        }
        waitUntil = sentAtNanos + engine.responseTimeoutNanos;
        if (received > 0 && lastReadNanos + engine.quietNanos - waitUntil < 0) {
            waitUntil = lastReadNanos + engine.quietNanos;
        }
        return Answer.WAIT;
    }

    private SessionOutcome outcomeOfEnd() {
        if (!everSent) {
            engine.counters.problem("no-client-data");
            return SessionOutcome.NOT_REPLAYED;
        }
        if (end != null && end.incomplete()) {
            engine.counters.problem("capture-gap", end.gaps());
            return SessionOutcome.INCOMPLETE;
        }
        return SessionOutcome.REPLAYED;
    }

    private void send(CapturedMessage m, long now) {
        awaiting = nextToSend++;
        received = 0;
        sentAtNanos = now;
        int len = m.bytes.length;
        out.append(m.bytes);
        m.bytes = null;
        engine.pendingBytes.addAndGet(-len);
        engine.counters.messagesSent.increment();
        engine.counters.bytesSent.add(len);
        everSent = true;
        if (awaiting - firstKept > 64) {
            messages.subList(0, awaiting - firstKept).clear();
            firstKept = awaiting;
        }
        pump(now);
    }

    /** Sends what the server's window allows, in segments no larger than the MSS and the path MTU. */
    private void pump(long now) {
        int segMax = segMax();
        boolean wasIdle = inFlight() == 0;
        boolean sent = false;
        while (true) {
            int offset = TcpSeq.diff(sndNxt, sndUna);
            int unsent = out.length() - offset;
            long room = sndWnd - offset;
            if (unsent <= 0 || room <= 0) {
                break;
            }
            int n = (int) Math.min(Math.min(unsent, segMax), room);
            sendData(sndNxt, offset, n, offset + n == out.length());
            sndNxt = TcpSeq.add(sndNxt, n);
            if (TcpSeq.diff(sndNxt, sndMax) > 0) {
                rtx.time(sndNxt, now);
            }
            sent = true;
        }
        if (finQueued && TcpSeq.diff(sndNxt, sndUna) == out.length() && sndNxt == finSeq && !finAcked) {
            engine.emit(this, finSeq, rcvNxt, PacketView.FIN | PacketView.ACK, OUR_WINDOW, 0, null, 0, 0);
            sndNxt = TcpSeq.add(finSeq, 1);
            sent = true;
        }
        if (TcpSeq.diff(sndNxt, sndMax) > 0) {
            sndMax = sndNxt;
        }
        if (wasIdle && (sent || windowBlocked())) {
            rtx.start(now);
        }
        armRetransmit();
    }

    private void sendSegmentAt(long seq) {
        int offset = TcpSeq.diff(seq, sndUna);
        int n = Math.min(segMax(), out.length() - offset);
        if (n > 0) {
            sendData(seq, offset, n, offset + n == out.length());
        } else if (finQueued && !finAcked) {
            engine.emit(this, finSeq, rcvNxt, PacketView.FIN | PacketView.ACK, OUR_WINDOW, 0, null, 0, 0);
        }
    }

    private void sendData(long seq, int offset, int n, boolean last) {
        int flags = PacketView.ACK | (last ? PacketView.PSH : 0);
        engine.emit(this, seq, rcvNxt, flags, OUR_WINDOW, 0, out.array(), offset, n);
    }

    private void sendSyn() {
        int opts = SegmentWriter.OPT_MSS | (synOptions.wscale() >= 0 ? SegmentWriter.OPT_WSCALE : 0)
                | (synOptions.sackPermitted() ? SegmentWriter.OPT_SACK_OK : 0);
        int mss = Math.min(synOptions.mss() > 0 ? synOptions.mss() : 1460, pathMss());
        engine.emit(this, iss, 0, PacketView.SYN, OUR_WINDOW, opts, null, 0, 0, mss, OUR_WSCALE);
    }

    private void sendAck() {
        engine.emit(this, sndNxt, rcvNxt, PacketView.ACK, OUR_WINDOW, 0, null, 0, 0);
    }

    private void sendReset() {
        // Before the SYN-ACK the server may sit in SYN-RECEIVED: only a reset at iss + 1 is in its window.
        boolean synSent = state == State.SYN_SENT;
        engine.emit(this, synSent ? TcpSeq.add(iss, 1) : sndNxt, synSent ? 0 : rcvNxt,
                synSent ? PacketView.RST : PacketView.RST | PacketView.ACK, 0, 0, null, 0, 0);
    }

    /** Largest segment payload the path MTU allows (IP and TCP headers without options). */
    private int pathMss() {
        return engine.mtu - (engine.addressLength() == 4 ? 40 : 60);
    }

    private int segMax() {
        return Math.min(peerMss, pathMss());
    }

    private int inFlight() {
        return state == State.WAITING || state == State.SYN_SENT ? 0 : TcpSeq.diff(sndMax, sndUna);
    }

    private void armRetransmit() {
        if (inFlight() > 0 || windowBlocked()) {
            arm(rtx.deadline());
        }
    }

    /** Data waits to be sent, none is in flight, and the server's window is closed. */
    private boolean windowBlocked() {
        return inFlight() == 0 && sndWnd <= 0 && out.length() > 0;
    }

    private void fail(String reason, boolean reset) {
        engine.counters.problem(reason);
        if (reset && state != State.WAITING) {
            sendReset();
        }
        finish(State.FAILED, SessionOutcome.FAILED);
    }

    /** Ends the session now, counted as not replayed ({@code interrupted}), e.g. after a stop's drain time. */
    void interrupt() {
        if (finished()) {
            return;
        }
        engine.counters.problem("interrupted");
        if (state != State.WAITING) {
            sendReset();
        }
        finish(State.DONE, SessionOutcome.NOT_REPLAYED);
    }

    private void finish(State terminal, SessionOutcome outcome) {
        if (finished()) {
            return;
        }
        State before = state;
        state = terminal;
        setStarved(false);
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        for (CapturedMessage m : messages) {
            if (m.bytes != null) {
                engine.pendingBytes.addAndGet(-m.bytes.length);
                m.bytes = null;
            }
        }
        engine.counters.ended(outcome);
        engine.finished(this, before != State.WAITING);
    }

    boolean finished() {
        return state == State.DONE || state == State.FAILED;
    }

    private void setStarved(boolean now) {
        if (starved != now) {
            starved = now;
            engine.starvedSlots.addAndGet(now ? 1 : -1);
        }
    }

    private static boolean notYet(long due, long now) {
        return due != Long.MIN_VALUE && due - now > 0;
    }

    /** Makes sure the timer runs by {@code at} (nanoTime); an earlier wake-up already set is kept. */
    private void arm(long at) {
        if (timer != null) {
            if (at - timerAt >= 0) {
                return;
            }
            timer.cancel(false);
        }
        timerAt = at;
        timer = engine.loop.schedule(this::onTimer, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
