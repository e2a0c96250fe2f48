package dev.trafficbus.replay.tcp;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.CapturedMessage;
import dev.trafficbus.replay.conversation.Conversation;
import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.intake.ReplayedSession;
import dev.trafficbus.replay.intake.SessionOutcome;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.SessionKey;
import dev.trafficbus.session.TcpSeq;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One captured session replayed as raw TCP from a fake client endpoint: the whole state machine in one place.
 * Events (captured messages, the test server's packets relayed by intercept, timers) update the TCP variables,
 * then {@link #advance()} moves the states:
 * WAITING → SYN_SENT → (AWAITING_ANSWER ⇄ SENDING)* → FIN_SENT → DONE, or FAILED from anywhere.
 * Side effects go through the engine (packets, endpoints, counters). Runs on the engine thread only; the
 * consumer thread only posts events ({@link dev.trafficbus.session.SessionEvents} methods) in batches.
 */
final class TcpSession extends ReplayedSession {
    enum State { WAITING, SYN_SENT, AWAITING_ANSWER, SENDING, FIN_SENT, DONE, FAILED }

    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;

    private final TcpEngine engine;
    private final long firstTsMicros;
    private final SynOptions synOptions;
    /** Null unless the run reads sessions as HTTP (rewrites, response records, status counts). */
    private final HttpExchanges http;
    private final ReplayRate.Turn rateTurn = new ReplayRate.Turn();
    private boolean unanswered;
    private boolean interrupted;
    private ReplayProblem failReason;
    /** An answer byte went unseen (relayed without payload, or a hole): HTTP reading stops for this session. */
    private boolean answerUnseen;

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

    // Send side: our sequence space, the server's window, retransmission.
    private final TcpSender sender;

    // Receive side (the test server's sequence space).
    /** The next byte expected from the server (acknowledged in every segment we send). */
    long rcvNxt;
    private boolean serverFin;
    private boolean serverRst;
    /** When each answer is complete. */
    private final Conversation conversation;

    // Timing.
    private long startNanos;
    private long synDeadline;
    private long closeDeadline;
    private ScheduledFuture<?> timer;
    private long timerAt;
    private boolean starved;
    boolean queued; // in the engine's queue of sessions waiting for a connection slot or an endpoint

    TcpSession(TcpEngine engine, SessionKey key, long firstTsMicros, int partition, long offset, String source,
               SynOptions synOptions) {
        super(key, partition, offset, source);
        this.engine = engine;
        this.firstTsMicros = firstTsMicros;
        this.synOptions = synOptions;
        this.clientAddress = new byte[engine.addressLength()];
        // Answers come headers-only unless intercept relays payloads: requests are read as HTTP only where the
        // run needs it (rewrites, response records), not for the report's status codes alone (a cost per request).
        this.http = engine.options.http().isEmpty() && engine.context.responses() == null ? null
                : engine.context.newExchanges();
        this.sender = new TcpSender(engine, this, synOptions);
        this.conversation = engine.answers.conversation(engine.quietNanos, engine.responseTimeoutNanos);
    }

    // ---- events from the consumer thread: posted to the engine thread in batches ----

    @Override
    public void message(int index, byte[] bytes, long captureTimeMicros) {
        engine.pendingBytes.addAndGet(bytes.length);
        engine.post(() -> onMessage(index, bytes, captureTimeMicros));
    }

    @Override
    public void expectedResponse(int index, long bytes, boolean settled) {
        engine.post(() -> onExpected(index, bytes, settled));
    }

    @Override
    public void serverData(int index, byte[] b, int off, int len, long captureTimeMicros) {
        if (http != null && http.readsProduction()) {
            byte[] copy = java.util.Arrays.copyOfRange(b, off, off + len);
            engine.post(() -> http.productionData(copy, 0, copy.length, captureTimeMicros));
        }
    }

    @Override
    public void productionAnswer(int index, long micros) {
        engine.post(() -> onProductionAnswer(index, micros));
    }

    @Override
    public void end(SessionEnd e) {
        engine.post(() -> onCapturedEnd(e));
    }

    // ---- events on the engine thread ----

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

    void onProductionAnswer(int index, long micros) {
        if (index >= firstKept && index - firstKept < messages.size()) {
            engine.answers.production(messages.get(index - firstKept), micros, System.nanoTime());
        }
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
            if ((flags & PacketView.RST) != 0 && ack && sender.acksSyn(v.ackNumber())) {
                fail(ReplayProblem.CONNECT_REFUSED, false);
            } else if ((flags & PacketView.SYN) != 0 && ack && sender.acksSyn(v.ackNumber())) {
                established(v, now);
            }
            return;
        }
        if ((flags & PacketView.RST) != 0) {
            // Only a reset inside our window is believed (RFC 5961 in spirit).
            if (TcpSeq.diff(v.seq(), rcvNxt) >= 0 || v.seq() == TcpSeq.add(rcvNxt, -1)) {
                serverRst = true;
                conversation.closed(now);
                advance();
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
        if (len > 0) {
            long segEnd = TcpSeq.add(seq, len);
            int fresh = TcpSeq.diff(segEnd, rcvNxt);
            if (fresh > 0) {
                int n = Math.min(fresh, len);
                answerBytes(v, seq, len, n, now);
                // Bytes intercept did not relay are acknowledged too: the server must never stall on a hole.
                rcvNxt = segEnd;
                engine.counters.bytesReceived.add(n);
                sender.progress(now);
            }
            mustAck = true;
        }
        if ((flags & PacketView.FIN) != 0) {
            long finAt = TcpSeq.add(seq, len);
            if (!serverFin && TcpSeq.diff(finAt, rcvNxt) >= 0) {
                serverFin = true;
                conversation.closed(now);
                rcvNxt = TcpSeq.add(finAt, 1);
            }
            mustAck = true;
        }
        if (mustAck) {
            sender.sendAck();
        }
        advance();
    }

    /**
     * Hands the {@code n} new answer bytes at the end of a segment ({@code len} bytes at {@code seq}) to the
     * conversation and the HTTP reader: their content only when intercept relayed the payload
     * ({@code --with-payload}) and nothing before them went missing, else only their count.
     */
    private void answerBytes(PacketView v, long seq, int len, int n, long now) {
        if (v.payloadLength() >= len && TcpSeq.diff(seq, rcvNxt) <= 0) {
            int at = v.payloadOffset() + len - n;
            conversation.received(v.array(), at, n, now);
            if (http != null && !answerUnseen) {
                http.replayedData(v.array(), at, n, now);
            }
            return;
        }
        conversation.receivedUnseen(n, now);
        if (http != null && !answerUnseen) {
            answerUnseen = true; // headers-only relay (intercept without --with-payload), or a hole
            engine.counters.problem(ReplayProblem.ANSWER_UNSEEN);
        }
    }

    private void established(PacketView v, long now) {
        rcvNxt = TcpSeq.add(v.seq(), 1);
        sender.established(v, now - startNanos, now);
        state = State.AWAITING_ANSWER;
        awaiting = -1;
        conversation.awaitGreeting(now);
        advance();
    }

    private void onTimer() {
        timer = null;
        if (finished()) {
            return;
        }
        long now = System.nanoTime();
        if (state == State.SYN_SENT) {
            if (now - synDeadline >= 0) {
                fail(ReplayProblem.CONNECT_TIMEOUT, true);
                return;
            }
            sender.synTimer(now);
            long rto = sender.timerDeadline();
            arm(rto - synDeadline < 0 ? rto : synDeadline);
            return;
        }
        if (!sender.retransmitTimer(now)) {
            fail(ReplayProblem.IDLE_TIMEOUT, true);
            return;
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
                        engine.counters.problem(ReplayProblem.NO_CLIENT_DATA);
                        finish(State.DONE, SessionOutcome.NOT_REPLAYED);
                        return;
                    }
                    long due = engine.clock.sessionStartDue(firstTsMicros);
                    if (notYet(due, now)) {
                        arm(due);
                        return;
                    }
                    long turn = rateTurn.waitFor(engine.options.rate(), false, now);
                    if (turn != 0) {
                        arm(turn);
                        return;
                    }
                    if (!engine.tryStart(this)) {
                        return; // the engine calls advance() again when a slot or endpoint frees up
                    }
                    startNanos = now;
                    synDeadline = now + engine.handshakeNanos;
                    state = State.SYN_SENT;
                    sender.start(now);
                    arm(sender.timerDeadline());
                    return;
                }
                case AWAITING_ANSWER -> {
                    switch (answer(now)) {
                        case WAIT -> {
                            arm(conversation.wakeAt());
                            sender.armRetransmit();
                            return;
                        }
                        case ANSWERED -> {
                            if (awaiting >= 0) {
                                if (conversation.received() > 0) {
                                    // Answered means bytes came back: an answer of nothing stays unanswered.
                                    engine.counters.messagesAnswered.increment();
                                }
                                engine.answers.judged(awaited(), conversation, now, null);
                            }
                        }
                        case TIMED_OUT -> {
                            engine.counters.problem(ReplayProblem.RESPONSE_TIMEOUT);
                            if (awaiting >= 0) {
                                engine.answers.judged(awaited(), conversation, now, ReplayProblem.RESPONSE_TIMEOUT);
                            }
                            unanswered = true;
                        }
                        case CLOSED_UNANSWERED -> {
                            fail(serverRst ? ReplayProblem.TARGET_RESET : ReplayProblem.TARGET_CLOSED, !serverRst);
                            return;
                        }
                    }
                    state = State.SENDING;
                }
                case SENDING -> {
                    if (nextToSend < firstKept + messages.size()) {
                        if (serverFin || serverRst) {
                            fail(serverRst ? ReplayProblem.TARGET_RESET : ReplayProblem.TARGET_CLOSED, !serverRst);
                            return;
                        }
                        CapturedMessage m = messages.get(nextToSend - firstKept);
                        long due = engine.clock.dueAfter(startNanos, m.tsMicros - firstTsMicros);
                        if (notYet(due, now)) {
                            arm(due);
                            sender.armRetransmit();
                            return;
                        }
                        long turn = rateTurn.waitFor(engine.options.rate(), true, now);
                        if (turn != 0) {
                            arm(turn);
                            sender.armRetransmit();
                            return;
                        }
                        rateTurn.taken();
                        setStarved(false);
                        state = send(m, now) ? State.AWAITING_ANSWER : State.SENDING;
                    } else if (end != null) {
                        setStarved(false);
                        if (serverRst) {
                            finish(State.DONE, outcomeOfEnd());
                            return;
                        }
                        if (sender.unacknowledged()) {
                            sender.armRetransmit(); // the last request is not acknowledged yet
                            return;
                        }
                        if (end.clientReset()) {
                            sender.sendReset();
                            finish(State.DONE, outcomeOfEnd());
                            return;
                        }
                        closeDeadline = now + CLOSE_WAIT_NANOS;
                        state = State.FIN_SENT;
                        sender.close(now);
                        arm(closeDeadline);
                        return;
                    } else {
                        setStarved(true); // the next message is not captured yet
                        sender.armRetransmit();
                        return;
                    }
                }
                case FIN_SENT -> {
                    if (serverRst || (sender.finAcknowledged() && serverFin) || now - closeDeadline >= 0) {
                        if (!serverRst) {
                            sender.sendReset(); // frees the test server's side at once, no TIME_WAIT kept there
                        }
                        finish(State.DONE, outcomeOfEnd());
                        return;
                    }
                    arm(closeDeadline); // a retransmit timer armed earlier may have replaced it
                    sender.armRetransmit();
                    return;
                }
                default -> {
                    return; // SYN_SENT moves on packets and timers; DONE and FAILED are final
                }
            }
        }
    }

    /** Whether the answer awaited is complete: the conversation judges, with what the capture says of it. */
    private Conversation.Verdict answer(long now) {
        if (awaiting < 0) {
            return conversation.judge(now, greetingExpected, greetingSettled || !messages.isEmpty() || end != null);
        }
        CapturedMessage m = awaited();
        return conversation.judge(now, m.expected, m.settled);
    }

    /** The message whose answer is awaited (awaiting ≥ 0). */
    private CapturedMessage awaited() {
        return messages.get(awaiting - firstKept);
    }

    private SessionOutcome outcomeOfEnd() {
        if (!everSent) {
            engine.counters.problem(ReplayProblem.NO_CLIENT_DATA);
            return SessionOutcome.NOT_REPLAYED;
        }
        if (end != null && end.incomplete()) {
            engine.counters.problem(ReplayProblem.CAPTURE_GAP, end.gaps());
            return SessionOutcome.INCOMPLETE;
        }
        return SessionOutcome.REPLAYED;
    }

    /** Sends the next message; false when nothing of it is to be sent (filters, middleware): no answer to await. */
    private boolean send(CapturedMessage m, long now) {
        awaiting = nextToSend++;
        int len = m.bytes.length;
        // Rewritten when sent, so the requests it holds are known to be sent now. The bytes go into our own
        // sequence space: a rewrite that changes the length moves every later sequence number with it.
        byte[] bytes = http != null ? http.rewrite(m.bytes, m.tsMicros) : m.bytes;
        if (bytes == null) {
            m.bytes = null;
            engine.pendingBytes.addAndGet(-len);
            return false;
        }
        conversation.prepare(bytes, 0, bytes.length);
        sender.append(bytes);
        conversation.sent(bytes, 0, bytes.length, now);
        engine.answers.sent(m, conversation);
        m.bytes = null;
        engine.pendingBytes.addAndGet(-len);
        if (http != null) {
            http.sent(now);
        }
        RunTimeline t = engine.context.timeline();
        if (t != null) {
            t.sent(now, m.tsMicros);
        }
        engine.counters.messagesSent.increment();
        engine.counters.bytesSent.add(bytes.length);
        everSent = true;
        if (awaiting - firstKept > 64) {
            messages.subList(0, awaiting - firstKept).clear();
            firstKept = awaiting;
        }
        sender.pump(now);
        return true;
    }

    private void fail(ReplayProblem reason, boolean reset) {
        failReason = reason;
        engine.counters.problem(reason);
        if (state == State.AWAITING_ANSWER && awaiting >= 0) {
            engine.answers.failed(awaited(), reason);
        }
        if (reset && state != State.WAITING) {
            sender.sendReset();
        }
        finish(State.FAILED, SessionOutcome.FAILED);
    }

    /** Ends the session now, counted as not replayed ({@code interrupted}), e.g. after a stop's drain time. */
    void interrupt() {
        if (finished()) {
            return;
        }
        interrupted = true;
        engine.counters.problem(ReplayProblem.INTERRUPTED);
        if (state != State.WAITING) {
            sender.sendReset();
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
        ReplayProblem error = failReason != null ? failReason : unanswered ? ReplayProblem.RESPONSE_TIMEOUT
                : interrupted ? ReplayProblem.INTERRUPTED : null;
        recordEnd(engine.context, outcome, !unanswered, http, error, interrupted);
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
    void arm(long at) {
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
