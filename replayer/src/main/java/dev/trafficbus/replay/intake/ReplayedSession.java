package dev.trafficbus.replay.intake;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.SessionKey;

/**
 * One captured session being replayed by an engine, with what the shared intake keeps of it: which record holds
 * its start (for the commit), whether the input stopped before its capture ended, and how its end is booked.
 */
public abstract class ReplayedSession implements SessionEvents {
    protected final SessionKey key;
    protected final int partition;
    protected final long offset;
    protected final String source;
    /** Set when the input stopped before the capture of this session ended: it must be read again next time. */
    private volatile boolean cut;
    /** Consumer thread only: a record past the window end was given to this session. */
    boolean pastWindowEnd;

    protected ReplayedSession(SessionKey key, int partition, long offset, String source) {
        this.key = key;
        this.partition = partition;
        this.offset = offset;
        this.source = source;
    }

    /** The partition of the session's first record. */
    public final int partition() {
        return partition;
    }

    /** The input stopped mid-session: its records stay uncommitted so a restart replays it whole (any thread). */
    public final void cut() {
        cut = true;
    }

    /**
     * Books the session's end, the same for every engine: its outcome, whether every message got its answer,
     * the HTTP exchanges (a pass-through reason, the response record), and the release of its first record to the
     * commit unless it was cut or interrupted (then a restart replays it again: at-least-once).
     *
     * @param http  the session's HTTP side, or null
     * @param error why the session did not end well, or null
     */
    protected final void recordEnd(EngineContext ctx, SessionOutcome outcome, boolean allAnswered,
                                   HttpExchanges http, ReplayProblem error, boolean interrupted) {
        ReplayCounters c = ctx.counters();
        switch (outcome) {
            case REPLAYED -> c.sessionsReplayed.increment();
            case INCOMPLETE -> c.sessionsIncomplete.increment();
            case FAILED -> c.sessionsFailed.increment();
            case NOT_REPLAYED -> c.sessionsNotReplayed.increment();
        }
        if ((outcome == SessionOutcome.REPLAYED || outcome == SessionOutcome.INCOMPLETE) && allAnswered) {
            c.sessionsAnswered.increment();
        }
        if (http != null) {
            http.closed(System.nanoTime());
            if (http.passReason() != null && http.isHttp()) {
                c.problem(http.passReason());
            }
            if (http.filtered() > 0) {
                c.problem(ReplayProblem.REQUEST_FILTERED, http.filtered());
            }
            if (ctx.responses() != null && http.isHttp()) {
                ctx.responses().publish(source, key.id(), key.copy(), http, error == null ? null : error.label());
            }
        }
        if (offset >= 0 && !cut && !interrupted) {
            ctx.ledger().finish(partition, offset);
        }
    }
}
