package dev.trafficbus.replay.socket;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.CapturedMessage;
import dev.trafficbus.replay.conversation.Conversation;
import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.intake.ReplayedSession;
import dev.trafficbus.replay.intake.SessionOutcome;
import dev.trafficbus.replay.tls.TlsFailures;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.SessionKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.util.ArrayList;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Replays one captured session over one ordinary TCP connection to the target: writes message k, waits for
 * its answer, then message k+1, keeping the capture's pacing. Bound to one event loop: the consumer thread
 * only posts events ({@link SessionEvents} methods), and every state change happens on the loop, so the
 * session needs no locks. Event handlers record facts; {@link #advance()} alone moves between states.
 */
public final class ReplaySession extends ReplayedSession {
    enum State {
        /** Waiting for the first message (or the end of an empty session) and for its start time. */
        WAITING_START,
        /** Waiting for a free connection slot. */
        WAITING_SLOT,
        CONNECTING,
        /** Connected; the next message is not ready or not due yet. */
        SENDING,
        /** A message (or the server's greeting, index -1) was sent; waiting for the answer. */
        AWAITING_RESPONSE,
        CLOSING,
        DONE,
        FAILED
    }

    /** Where answer bytes from direct buffers are copied to be read, one per event loop thread. */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[16 * 1024];
        }
    };

    private final ReplayEngine engine;
    private final EventLoop loop;
    private final long firstTsMicros;
    /** Null unless the run rewrites or records HTTP. */
    private final HttpExchanges http;
    /** When each answer is complete. */
    private final Conversation conversation;
    private boolean interrupted;
    private boolean unanswered;
    private ReplayProblem failReason;
    private final ReplayRate.Turn rateTurn = new ReplayRate.Turn();

    private State state = State.WAITING_START;
    // messages.get(i) is message (i + firstKept); answered ones are dropped from the front now and then.
    private final ArrayList<CapturedMessage> messages = new ArrayList<>(4);
    private int firstKept;
    private int messageCount;
    private long greetingExpected;
    private boolean greetingSettled;
    private SessionEnd end;

    private Channel channel;
    private boolean slotHeld;
    private boolean starved;
    private long startNanos;
    private int nextToSend;
    private int awaiting = -1;
    private boolean targetClosed;
    private ReplayProblem closeReason = ReplayProblem.TARGET_CLOSED;

    private ScheduledFuture<?> timer;
    private long timerAt;

    ReplaySession(ReplayEngine engine, EventLoop loop, SessionKey key, long firstTsMicros, int partition,
                  long offset, String source) {
        super(key, partition, offset, source);
        this.engine = engine;
        this.loop = loop;
        this.firstTsMicros = firstTsMicros;
        this.http = engine.context.newExchanges();
        this.conversation = engine.answers.conversation(engine.quietNanos, engine.responseTimeoutNanos);
    }

    // ---- events from the consumer thread: posted to the loop in batches ----

    @Override
    public void message(int index, byte[] bytes, long captureTimeMicros) {
        engine.pendingBytes.addAndGet(bytes.length);
        engine.mailbox.post(loop, () -> onMessage(bytes, captureTimeMicros));
    }

    @Override
    public void expectedResponse(int index, long bytes, boolean settled) {
        engine.mailbox.post(loop, () -> onExpected(index, bytes, settled));
    }

    @Override
    public void serverData(int index, byte[] b, int off, int len, long captureTimeMicros) {
        if (http != null && http.readsProduction()) {
            byte[] copy = java.util.Arrays.copyOfRange(b, off, off + len);
            engine.mailbox.post(loop, () -> http.productionData(copy, 0, copy.length, captureTimeMicros));
        }
    }

    @Override
    public void productionAnswer(int index, long micros) {
        engine.mailbox.post(loop, () -> onProduction(index, micros));
    }

    @Override
    public void end(SessionEnd end) {
        engine.mailbox.post(loop, () -> onEnd(end));
    }

    /** Called by the connection limiter (any thread) when this session's turn came. */
    void slotGranted() {
        loop.execute(() -> {
            if (state != State.WAITING_SLOT) {
                engine.limiter.release(); // gave up meanwhile; pass the slot on
                return;
            }
            slotHeld = true;
            connect();
        });
    }

    /** Ends the session now, whatever it was doing (stop after the drain time ran out). */
    void interrupt() {
        loop.execute(() -> {
            if (state != State.DONE && state != State.FAILED) {
                interrupted = true;
                engine.counters.problem(ReplayProblem.INTERRUPTED);
                finish(State.DONE, SessionOutcome.NOT_REPLAYED);
            }
        });
    }

    // ---- events on the loop ----

    private void onMessage(byte[] bytes, long tsMicros) {
        messageCount++;
        if (finished()) {
            engine.pendingBytes.addAndGet(-bytes.length);
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
        if (state == State.AWAITING_RESPONSE && index == awaiting) {
            advance();
        }
    }

    private void onProduction(int index, long micros) {
        if (index >= firstKept && index - firstKept < messages.size()) {
            engine.answers.production(messages.get(index - firstKept), micros, System.nanoTime());
        }
    }

    private void onEnd(SessionEnd e) {
        end = e;
        engine.counters.problem(ReplayProblem.CAPTURE_GAP, e.gaps());
        if (!finished()) {
            advance();
        }
    }

    void onRead(ByteBuf buf) {
        int bytes = buf.readableBytes();
        if (http != null && bytes > 0) {
            byte[] copy = new byte[bytes];
            buf.getBytes(buf.readerIndex(), copy);
            http.replayedData(copy, 0, bytes, System.nanoTime());
        }
        engine.counters.bytesReceived.add(bytes);
        long now = System.nanoTime();
        if (buf.hasArray()) {
            conversation.received(buf.array(), buf.arrayOffset() + buf.readerIndex(), bytes, now);
        } else {
            byte[] scratch = SCRATCH.get();
            for (int done = 0; done < bytes; ) {
                int n = Math.min(scratch.length, bytes - done);
                buf.getBytes(buf.readerIndex() + done, scratch, 0, n);
                conversation.received(scratch, 0, n, now);
                done += n;
            }
        }
        if (state == State.AWAITING_RESPONSE) {
            advance();
        }
    }

    void onInactive() {
        targetClosed = true;
        conversation.closed(System.nanoTime());
        if (!finished() && state != State.CLOSING) {
            advance();
        }
    }

    void onError(Throwable cause) {
        ReplayProblem tls = TlsFailures.classify(cause);
        if (tls != null) {
            closeReason = tls;
        } else if (cause instanceof IOException && String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT).contains("reset")) {
            closeReason = ReplayProblem.TARGET_RESET;
        } else if (!(cause instanceof IOException)) {
            closeReason = ReplayProblem.TARGET_ERROR;
        }
        targetClosed = true;
        conversation.closed(System.nanoTime());
        if (channel != null) {
            channel.close();
        }
        if (!finished() && state != State.CLOSING) {
            advance();
        }
    }

    private void onConnected(ChannelFuture f) {
        if (finished()) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            fail(c instanceof ConnectTimeoutException ? ReplayProblem.CONNECT_TIMEOUT
                    : c instanceof NoRouteToHostException ? ReplayProblem.CONNECT_UNREACHABLE
                    : c instanceof ConnectException ? ReplayProblem.CONNECT_REFUSED : ReplayProblem.CONNECT_ERROR);
            return;
        }
        channel = f.channel();
        // The first wait is for whatever the server says before the client's first message (a greeting).
        state = State.AWAITING_RESPONSE;
        awaiting = -1;
        conversation.awaitGreeting(System.nanoTime());
        advance();
    }

    private void onTimer() {
        timer = null;
        if (!finished()) {
            advance();
        }
    }

    // ---- the state machine ----

    private void advance() {
        setStarved(false);
        while (true) {
            long now = System.nanoTime();
            switch (state) {
                case WAITING_START -> {
                    if (messages.isEmpty() && end == null) {
                        return;
                    }
                    if (messages.isEmpty() && messageCount == 0 && !end.synSeen()) {
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
                    state = State.WAITING_SLOT;
                    if (engine.limiter.acquireOrWait(this)) {
                        slotHeld = true;
                        connect();
                    }
                    return;
                }
                case AWAITING_RESPONSE -> {
                    switch (answer(now)) {
                        case WAIT -> {
                            arm(conversation.wakeAt());
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
                        long due = engine.clock.dueAfter(startNanos, m.tsMicros - firstTsMicros);
                        if (notYet(due, now)) {
                            arm(due);
                            return;
                        }
                        long turn = rateTurn.waitFor(engine.options.rate(), true, now);
                        if (turn != 0) {
                            arm(turn);
                            return;
                        }
                        rateTurn.taken();
                        state = send(m, now) ? State.AWAITING_RESPONSE : State.SENDING;
                    } else if (end != null) {
                        state = State.CLOSING;
                        channel.close().addListener(f -> finish(State.DONE,
                                end.incomplete() ? SessionOutcome.INCOMPLETE : SessionOutcome.REPLAYED));
                        return;
                    } else {
                        setStarved(true); // the next message is not captured yet
                        return;
                    }
                }
                default -> {
                    return; // WAITING_SLOT, CONNECTING, CLOSING, DONE, FAILED move on events only
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

    private void connect() {
        state = State.CONNECTING;
        startNanos = System.nanoTime();
        engine.bootstrap(loop).handler(engine.handlers(this, messages.isEmpty() ? null : messages.get(0).bytes))
                .connect(engine.target)
                .addListener((ChannelFutureListener) this::onConnected);
    }

    /** Sends the next message; false when the middleware left it out (counted there): no answer to await. */
    private boolean send(CapturedMessage m, long now) {
        awaiting = nextToSend++;
        int len = m.bytes.length;
        // Rewritten when sent, so the requests it holds are known to be sent now.
        byte[] out = http != null ? http.rewrite(m.bytes, m.tsMicros) : m.bytes;
        if (out == null) {
            m.bytes = null;
            engine.pendingBytes.addAndGet(-len);
            return false;
        }
        conversation.prepare(out, 0, out.length);
        // A failed write shows up as exceptionCaught, like any other error on the connection.
        channel.writeAndFlush(Unpooled.wrappedBuffer(out), channel.voidPromise());
        conversation.sent(out, 0, out.length, now);
        engine.answers.sent(m, conversation);
        m.bytes = null;
        engine.pendingBytes.addAndGet(-len);
        if (http != null) {
            http.sent(now);
        }
        if (engine.timeline != null) {
            engine.timeline.sent(now, m.tsMicros);
        }
        engine.counters.messagesSent.increment();
        engine.counters.bytesSent.add(out.length);
        if (awaiting - firstKept > 64) {
            messages.subList(0, awaiting - firstKept).clear();
            firstKept = awaiting;
        }
        return true;
    }

    private void fail(ReplayProblem reason) {
        failReason = reason;
        if (state == State.AWAITING_RESPONSE && awaiting >= 0) {
            engine.answers.failed(awaited(), reason);
        }
        engine.counters.problem(reason);
        finish(State.FAILED, SessionOutcome.FAILED);
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
        if (before == State.WAITING_SLOT) {
            engine.limiter.cancel(this); // if the grant is already on its way, slotGranted() hands it on
        }
        if (channel != null && channel.isOpen()) {
            channel.close();
        }
        if (slotHeld) {
            slotHeld = false;
            engine.limiter.release();
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
        engine.finished(this);
    }

    /** Keeps {@link ReplayEngine#starvedSlots} in step: the consumer must not pause while every slot starves. */
    private void setStarved(boolean now) {
        if (starved != now) {
            starved = now;
            engine.starvedSlots.addAndGet(now ? 1 : -1);
        }
    }

    private boolean finished() {
        return state == State.DONE || state == State.FAILED;
    }

    private static boolean notYet(long due, long now) {
        return due != Long.MIN_VALUE && due - now > 0;
    }

    /** Makes sure {@link #advance()} runs again by {@code at} (nanoTime); an earlier wake-up already set is kept. */
    private void arm(long at) {
        if (timer != null && at - timerAt >= 0) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAt = at;
        timer = loop.schedule(this::onTimer, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public String toString() {
        return key + " " + state;
    }
}
