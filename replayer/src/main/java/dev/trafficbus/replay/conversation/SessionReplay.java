package dev.trafficbus.replay.conversation;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.intake.ReplayedSession;
import dev.trafficbus.replay.intake.SessionOutcome;
import dev.trafficbus.replay.middleware.Middleware;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.SessionKey;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Drives one captured session through its conversation with the target, the same for every engine: waits for
 * its start, opens a connection through its {@link Transport}, writes message k, waits until its answer is
 * complete, then message k+1 at its captured time, and closes as the capture did. The states and their
 * transitions are all in {@link #advance()}:
 * WAITING_START → WAITING_SLOT → CONNECTING → (AWAITING_ANSWER ⇄ SENDING [→ REWRITING])* → CLOSING → DONE, or
 * FAILED.
 * Events (from the consumer thread: posted in batches; from the transport and timers: on the loop) only record
 * facts and call {@link #advance()}; side effects go through the transport and the shared counters. Bound to
 * one event loop, so it needs no locks.
 */
public final class SessionReplay extends ReplayedSession {
    enum State {
        /** Waiting for the first message (or the end of an empty session) and for its start time. */
        WAITING_START,
        /** Waiting for a connection slot (or a client endpoint). */
        WAITING_SLOT,
        CONNECTING,
        /** Connected; the next message is not captured or not due yet. */
        SENDING,
        /** The message due is with the --middleware; waiting for what it makes of it (the loop goes on). */
        REWRITING,
        /** A message (or the server's greeting, index -1) was written; waiting for its answer. */
        AWAITING_ANSWER,
        /** The capture ended; the transport closes the connection. */
        CLOSING,
        DONE,
        FAILED
    }

    private final EngineSessions shared;
    private final EventLoop loop;
    private final long firstTsMicros;
    /** Null unless the run reads sessions as HTTP (rewrites, response records). */
    private final HttpExchanges http;
    private final Conversation conversation;
    private final Transport transport;
    /** Made on the first wait for a rate's turn: most runs have no rate, and idle sessions are many. */
    private ReplayRate.Turn rateTurn;

    private State state = State.WAITING_START;
    // messages.get(i) is message (i + firstKept); answered ones are dropped from the front now and then.
    private final ArrayList<CapturedMessage> messages = new ArrayList<>(4);
    private int firstKept;
    private int nextToSend;
    private int awaiting = -1;
    private long greetingExpected;
    private boolean greetingSettled;
    private SessionEnd end;

    private long startNanos;
    private boolean targetClosed;
    private ReplayProblem closeReason = ReplayProblem.TARGET_CLOSED;
    /** An answer byte went unseen (relayed without payload, or a hole): HTTP reading stops for this session. */
    private boolean answerUnseen;
    private boolean unanswered;
    /** A message whose every HTTP/2 stream the target reset or refused: the session is not answered in full. */
    private boolean refused;
    private boolean interrupted;
    private ReplayProblem failReason;
    private boolean starved;
    /** The starved count of the session's partition, once it first starved. */
    private AtomicInteger starvedOn;

    /** What the middleware made of the message in REWRITING, once it decided. */
    private Middleware.Outcome decided;

    private ScheduledFuture<?> timer;
    private long timerAt;

    SessionReplay(EngineSessions shared, EventLoop loop, SessionKey key, long firstTsMicros, int partition,
                  long offset, String source, HttpExchanges http, Function<SessionReplay, Transport> transport) {
        super(key, partition, offset, source);
        this.shared = shared;
        this.loop = loop;
        this.firstTsMicros = firstTsMicros;
        this.http = http;
        this.conversation = shared.answers.conversation(shared.quietNanos, shared.responseTimeoutNanos);
        this.transport = transport.apply(this);
    }

    /** The session's captured identity (for names in logs). */
    public SessionKey key() {
        return key;
    }

    /** The loop every event of this session runs on. */
    public EventLoop loop() {
        return loop;
    }

    // ---- events from the consumer thread: posted to the loop in batches ----

    @Override
    public void message(int index, byte[] bytes, long captureTimeMicros) {
        shared.pendingBytes.addAndGet(bytes.length);
        shared.mailbox.post(loop, () -> onMessage(bytes, captureTimeMicros));
    }

    @Override
    public void expectedResponse(int index, long bytes, boolean settled) {
        shared.mailbox.post(loop, () -> onExpected(index, bytes, settled));
    }

    @Override
    public void serverData(int index, byte[] b, int off, int len, long captureTimeMicros) {
        if (http != null && http.readsProduction()) {
            byte[] copy = java.util.Arrays.copyOfRange(b, off, off + len);
            shared.mailbox.post(loop, () -> http.productionData(copy, 0, copy.length, captureTimeMicros));
        }
    }

    @Override
    public void productionAnswer(int index, long micros) {
        shared.mailbox.post(loop, () -> onProduction(index, micros));
    }

    @Override
    public void end(SessionEnd e) {
        shared.mailbox.post(loop, () -> onEnd(e));
    }

    /** Ends the session now, whatever it was doing, counted as not replayed (a stop's drain time ran out). Any thread. */
    void interrupt() {
        loop.execute(() -> {
            if (!finished()) {
                interrupted = true;
                shared.counters.problem(ReplayProblem.INTERRUPTED);
                finish(State.DONE, SessionOutcome.NOT_REPLAYED);
            }
        });
    }

    private void onMessage(byte[] bytes, long tsMicros) {
        if (finished()) {
            shared.pendingBytes.addAndGet(-bytes.length);
            return;
        }
        messages.add(new CapturedMessage(bytes, tsMicros));
        advance();
    }

    private void onExpected(int index, long bytes, boolean settled) {
        if (index < 0) {
            greetingExpected = bytes;
            greetingSettled |= settled;
        } else if (index >= firstKept && index - firstKept < messages.size()) {
            CapturedMessage m = messages.get(index - firstKept);
            m.expected = bytes;
            m.settled |= settled;
        }
        if (state == State.AWAITING_ANSWER && index == awaiting) {
            advance();
        }
    }

    private void onProduction(int index, long micros) {
        if (index >= firstKept && index - firstKept < messages.size()) {
            shared.answers.production(messages.get(index - firstKept), micros, System.nanoTime());
        }
    }

    private void onEnd(SessionEnd e) {
        end = e;
        shared.counters.problem(ReplayProblem.CAPTURE_GAP, e.gaps());
        advance();
    }

    // ---- events from the transport, on the loop ----

    /** The connection is open: the first wait is for whatever the server says before the client's first message. */
    public void connected(long now) {
        if (state != State.CONNECTING) {
            return;
        }
        state = State.AWAITING_ANSWER;
        awaiting = -1;
        if (nextToSend == 0 && !messages.isEmpty()) {
            // A connection slower to open than the captured handshake moves the session's own clock by the
            // difference: its messages keep their captured gaps instead of the later ones catching up on the first.
            long due = shared.context.clock().dueAfter(startNanos, messages.get(0).tsMicros - firstTsMicros);
            if (due != Long.MIN_VALUE && now - due > 0) {
                startNanos += now - due;
            }
        }
        conversation.awaitGreeting(now);
        advance();
    }

    /** The connection could not be opened, or was given up ({@code reason}). */
    public void openFailed(ReplayProblem reason) {
        fail(reason);
    }

    /** The connection is given up for {@code reason} (e.g. nothing moved for the idle timeout). */
    public void fail(ReplayProblem reason) {
        if (finished()) {
            return;
        }
        failReason = reason;
        if (state == State.AWAITING_ANSWER && awaiting >= 0) {
            shared.answers.failed(awaited(), reason);
        }
        shared.counters.problem(reason);
        finish(State.FAILED, SessionOutcome.FAILED);
    }

    /** Answer bytes {@code b[off, off+len)}, in order (valid during the call only). */
    public void received(byte[] b, int off, int len, long now) {
        if (finished()) {
            return;
        }
        shared.counters.bytesReceived.add(len);
        conversation.received(b, off, len, now);
        if (http != null && !answerUnseen) {
            http.replayedData(b, off, len, now);
        }
        if (state == State.AWAITING_ANSWER) {
            advance();
        }
    }

    /** {@code n} answer bytes arrived whose content the transport did not see (relayed headers only, or a hole). */
    public void receivedUnseen(int n, long now) {
        if (finished()) {
            return;
        }
        shared.counters.bytesReceived.add(n);
        conversation.receivedUnseen(n, now);
        if (http != null && !answerUnseen) {
            answerUnseen = true;
            shared.counters.problem(ReplayProblem.ANSWER_UNSEEN);
        }
        if (state == State.AWAITING_ANSWER) {
            advance();
        }
    }

    /** The target ended the connection: {@code reason} names how (closed, reset, an error, a TLS failure). */
    public void targetClosed(ReplayProblem reason, long now) {
        if (!targetClosed || closeReason == ReplayProblem.TARGET_CLOSED) {
            closeReason = reason; // a reset or an error says more than the close that follows it
        }
        if (!targetClosed) {
            targetClosed = true;
            conversation.closed(now);
        }
        if (!finished() && state != State.CLOSING) {
            advance();
        }
    }

    /** The transport closed the connection as the capture did ({@link Transport#close}). */
    public void closeDone() {
        if (state == State.CLOSING) {
            finish(State.DONE, end.incomplete() ? SessionOutcome.INCOMPLETE : SessionOutcome.REPLAYED);
        }
    }

    /** True while the session waits for a connection slot: a slot handed to it now is used. */
    public boolean waitingForSlot() {
        return state == State.WAITING_SLOT;
    }

    public boolean finished() {
        return state == State.DONE || state == State.FAILED;
    }

    // ---- the state machine ----

    /** Moves through the states as far as the current facts allow, arming the timer for whatever it waits on. */
    public void advance() {
        setStarved(false);
        while (true) {
            long now = System.nanoTime();
            switch (state) {
                case WAITING_START -> {
                    if (messages.isEmpty() && end == null) {
                        return;
                    }
                    if (messages.isEmpty() && !end.synSeen() && greetingExpected == 0) {
                        shared.counters.problem(ReplayProblem.NO_CLIENT_DATA); // nothing of it to replay
                        finish(State.DONE, SessionOutcome.NOT_REPLAYED);
                        return;
                    }
                    long due = shared.context.clock().sessionStartDue(firstTsMicros);
                    if (notYet(due, now)) {
                        arm(due);
                        return;
                    }
                    long turn = waitForRate(false, now);
                    if (turn != 0) {
                        arm(turn);
                        return;
                    }
                    state = State.WAITING_SLOT;
                }
                case WAITING_SLOT -> {
                    if (transport.open(messages.isEmpty() ? null : messages.get(0).bytes, now)) {
                        state = State.CONNECTING;
                        startNanos = now;
                    }
                    return; // the transport wakes the session when a slot frees up
                }
                case AWAITING_ANSWER -> {
                    switch (answer(now)) {
                        case WAIT -> {
                            arm(conversation.wakeAt());
                            transport.idle();
                            return;
                        }
                        case ANSWERED -> {
                            if (awaiting >= 0) {
                                if (conversation.answered()) {
                                    shared.counters.messagesAnswered.increment();
                                } else if (conversation.everyStreamRefused()) {
                                    refused = true; // its streams are counted as stream-reset
                                }
                                shared.answers.judged(awaited(), conversation, now, null);
                            }
                        }
                        case TIMED_OUT -> {
                            shared.counters.problem(ReplayProblem.RESPONSE_TIMEOUT);
                            if (awaiting >= 0) {
                                shared.answers.judged(awaited(), conversation, now, ReplayProblem.RESPONSE_TIMEOUT);
                            }
                            unanswered = true;
                        }
                        case CLOSED_UNANSWERED -> {
                            fail(closeReason);
                            return;
                        }
                    }
                    state = State.SENDING;
                }
                case SENDING -> {
                    if (nextToSend < firstKept + messages.size()) {
                        if (targetClosed) {
                            fail(closeReason);
                            return;
                        }
                        CapturedMessage m = messages.get(nextToSend - firstKept);
                        long due = shared.context.clock().dueAfter(startNanos, m.tsMicros - firstTsMicros);
                        long sooner = shared.context.clock().liveAdvance(due, m.tsMicros);
                        if (sooner > 0) {
                            startNanos -= sooner; // its record came sooner than the session's start said
                            due -= sooner;
                        }
                        if (notYet(due, now)) {
                            arm(due);
                            transport.idle();
                            return;
                        }
                        long turn = waitForRate(true, now);
                        if (turn != 0) {
                            arm(turn);
                            transport.idle();
                            return;
                        }
                        if (rateTurn != null) {
                            rateTurn.taken();
                        }
                        state = send(m, now);
                    } else if (end != null) {
                        state = State.CLOSING;
                        transport.close(end.clientReset(), now);
                        return;
                    } else {
                        setStarved(true); // the next message is not captured yet
                        transport.idle();
                        return;
                    }
                }
                case REWRITING -> {
                    if (decided == null) {
                        return; // the middleware's outcome wakes the session
                    }
                    Middleware.Outcome o = decided;
                    decided = null;
                    CapturedMessage m = awaited();
                    byte[] out = http.fromMiddleware(o, m.tsMicros);
                    if (out != null && targetClosed) {
                        fail(closeReason);
                        return;
                    }
                    state = write(m, out, now);
                }
                default -> {
                    return; // CONNECTING and CLOSING move on the transport's events; DONE and FAILED are final
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

    /**
     * Sends the next message, rewritten: the state it leaves the session in. SENDING when there is no answer to
     * await (the filters or the middleware left it out, counted there); REWRITING while a middleware decides.
     */
    private State send(CapturedMessage m, long now) {
        awaiting = nextToSend++;
        if (http == null) {
            return write(m, m.bytes, now);
        }
        // Rewritten when sent, so the requests it holds are known to be sent now.
        byte[] out = http.rewrite(m.bytes, m.tsMicros);
        if (out == HttpExchanges.TO_MIDDLEWARE) {
            http.toMiddleware(m.bytes, m.tsMicros).thenAcceptAsync(this::fromMiddleware, loop);
            return State.REWRITING;
        }
        return write(m, out, now);
    }

    /** The middleware decided on the message it was given (on the loop). */
    private void fromMiddleware(Middleware.Outcome o) {
        if (state == State.REWRITING) { // else the session ended while the program decided
            decided = o;
            advance();
        }
    }

    /** Writes {@code out} for message {@code m} (null: nothing to send); the state that follows. */
    private State write(CapturedMessage m, byte[] out, long now) {
        int len = m.bytes.length;
        m.bytes = null;
        shared.pendingBytes.addAndGet(-len);
        if (out == null) {
            return State.SENDING;
        }
        conversation.prepare(out, 0, out.length);
        transport.send(out, now);
        conversation.sent(out, 0, out.length, now);
        shared.answers.sent(m, conversation);
        if (http != null) {
            http.sent(now);
        }
        RunTimeline t = shared.context.timeline();
        if (t != null) {
            t.sent(now, m.tsMicros);
        }
        shared.counters.messagesSent.increment();
        shared.counters.bytesSent.add(out.length);
        if (awaiting - firstKept > 64) {
            messages.subList(0, awaiting - firstKept).clear();
            firstKept = awaiting;
        }
        return State.AWAITING_ANSWER;
    }

    private void finish(State terminal, SessionOutcome outcome) {
        if (finished()) {
            return;
        }
        state = terminal;
        setStarved(false);
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        transport.release();
        for (CapturedMessage m : messages) {
            if (m.bytes != null) {
                shared.pendingBytes.addAndGet(-m.bytes.length);
                m.bytes = null;
            }
        }
        shared.counters.problem(ReplayProblem.STREAM_RESET, conversation.streamsResetByTarget());
        ReplayProblem error = failReason != null ? failReason : unanswered ? ReplayProblem.RESPONSE_TIMEOUT
                : interrupted ? ReplayProblem.INTERRUPTED : null;
        recordEnd(shared.context, outcome, !unanswered && !refused, http, error, interrupted);
        shared.finished(this);
    }

    /** Keeps the starved counts in step: the consumer reads on what a starved slot waits for. */
    private void setStarved(boolean now) {
        if (starved != now) {
            starved = now;
            if (starvedOn == null) {
                starvedOn = shared.starved.of(partition);
            }
            shared.starved.change(starvedOn, now ? 1 : -1);
        }
    }

    /** As {@link ReplayRate.Turn#waitFor}, for this session's turn under the run's rate (none: 0). */
    private long waitForRate(boolean forRequests, long now) {
        ReplayRate rate = shared.context.options().rate();
        if (rate == null) {
            return 0;
        }
        if (rateTurn == null) {
            rateTurn = new ReplayRate.Turn();
        }
        return rateTurn.waitFor(rate, forRequests, now);
    }

    private static boolean notYet(long due, long now) {
        return due != Long.MIN_VALUE && due - now > 0;
    }

    /** Makes sure the timer runs by {@code at} (nanoTime); an earlier wake-up already set is kept. */
    public void arm(long at) {
        if (timer != null) {
            if (at - timerAt >= 0) {
                return;
            }
            timer.cancel(false);
        }
        timerAt = at;
        timer = loop.schedule(this::onTimer, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void onTimer() {
        timer = null;
        if (finished()) {
            return;
        }
        transport.timer(System.nanoTime());
        if (!finished()) {
            advance();
        }
    }

    @Override
    public String toString() {
        return key + " " + state;
    }
}
