package dev.trafficbus.replay.conversation;

import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.replay.intake.EngineContext;
import dev.trafficbus.replay.intake.LoopMailbox;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.intake.StarvedSlots;
import dev.trafficbus.session.SessionKey;
import io.netty.channel.EventLoop;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * What every {@link SessionReplay} of one engine shares, whatever the transport: the run's context, the answer
 * recorder, the consumer thread's mailbox to the event loops, the bytes held for sessions, the slots that starve,
 * and the sessions without an outcome (for the drain and interrupts).
 */
public final class EngineSessions {
    final EngineContext context;
    final ReplayCounters counters;
    /** Counts how answers were judged and gives the report both answer times. */
    final AnswerRecorder answers;
    final long quietNanos;
    final long responseTimeoutNanos;
    /** Captured message bytes handed to sessions and not yet written or dropped. */
    final AtomicLong pendingBytes = new AtomicLong();
    /** Sessions holding a connection slot that cannot go on until more of the capture is consumed. */
    final StarvedSlots starved = new StarvedSlots();
    /** The consumer thread's events for the sessions, handed over once per poll. */
    final LoopMailbox mailbox = new LoopMailbox();
    private final Set<SessionReplay> live = ConcurrentHashMap.newKeySet();

    public EngineSessions(EngineContext ctx) {
        this.context = ctx;
        this.counters = ctx.counters();
        this.answers = new AnswerRecorder(counters.answers, ctx.options().timeline());
        this.quietNanos = ctx.tuning().quietPeriod().toNanos();
        this.responseTimeoutNanos = ctx.tuning().responseTimeout().toNanos();
    }

    /**
     * Consumer thread: a new session whose first record is {@code offset} of {@code partition} (-1: not tracked),
     * driven on {@code loop} over the transport {@code transport} makes for it.
     *
     * @param http the session's HTTP side, or null
     */
    public SessionReplay open(SessionKey key, long firstTsMicros, int partition, long offset, String source,
                              EventLoop loop, HttpExchanges http, Function<SessionReplay, Transport> transport) {
        counters.sessionsSeen.increment();
        if (offset >= 0) {
            context.ledger().open(partition, offset);
        }
        SessionReplay s = new SessionReplay(this, loop, key, firstTsMicros, partition, offset, source, http, transport);
        live.add(s);
        return s;
    }

    void finished(SessionReplay s) {
        live.remove(s);
    }

    /** Consumer thread: hands the events posted since the last call to the event loops. */
    public void flush() {
        mailbox.flush();
    }

    public long pendingBytes() {
        return pendingBytes.get();
    }

    /** Sessions holding a slot and waiting for more of the capture. */
    public int starvedSlots() {
        return starved.total();
    }

    /** True when a session holding a slot waits for more of {@code partition}. */
    public boolean starvedOn(int partition) {
        return starved.waitOn(partition);
    }

    public int liveSessions() {
        return live.size();
    }

    public int liveSessions(IntPredicate partitions) {
        int n = 0;
        for (SessionReplay s : live) {
            if (partitions.test(s.partition())) {
                n++;
            }
        }
        return n;
    }

    /** Ends the sessions of the partitions {@code partitions} accepts, counted as interrupted. */
    public void interrupt(IntPredicate partitions) {
        for (SessionReplay s : live) {
            if (partitions.test(s.partition())) {
                s.interrupt();
            }
        }
    }
}
