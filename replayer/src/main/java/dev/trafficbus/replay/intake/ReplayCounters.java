package dev.trafficbus.replay.intake;

import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.conversation.AnswerCounts;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.replay.tls.TlsHandshakes;


import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** The run's counters, updated from the consumer thread and every event loop. */
public final class ReplayCounters implements CaptureRecordReader.Intake {
    public final LongAdder sessionsSeen = new LongAdder();
    public final LongAdder sessionsReplayed = new LongAdder();
    public final LongAdder sessionsFailed = new LongAdder();
    public final LongAdder sessionsIncomplete = new LongAdder();
    public final LongAdder sessionsNotReplayed = new LongAdder();
    /** Replayed (or incomplete) sessions in which every message got its answer. */
    public final LongAdder sessionsAnswered = new LongAdder();
    /** Sessions whose start was read, including those left out (window edges, already replayed). */
    final LongAdder sessionsCaptured = new LongAdder();
    /** Sessions begun inside the window that went on past its end: replayed whole. */
    final LongAdder sessionsContinuingAfterWindow = new LongAdder();
    public final LongAdder messagesSent = new LongAdder();
    public final LongAdder messagesAnswered = new LongAdder();
    /** How each answer's end was known. */
    public final AnswerCounts answers = new AnswerCounts();
    /** TLS handshakes, full or resumed. */
    public final TlsHandshakes tls = new TlsHandshakes();
    public final LongAdder bytesSent = new LongAdder();
    public final LongAdder bytesReceived = new LongAdder();
    final LongAdder recordsConsumed = new LongAdder();
    /** Records whose value did not decode. */
    final LongAdder recordsSkipped = new LongAdder();
    /** Packets of the records that decoded: every one is handed on or counted in {@link #packetsSkipped}. */
    final LongAdder packetsConsumed = new LongAdder();
    final LongAdder packetsSkipped = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> problems = new ConcurrentHashMap<>();
    /** Sessions read but left out before replay, by {@link LeftOutReason} label. */
    private final ConcurrentHashMap<String, LongAdder> leftOutByReason = new ConcurrentHashMap<>();
    private volatile RunTimeline timeline;
    private volatile MetricsEndpoint metrics;

    /** Sends errors to {@code t} and exports every counter to {@code m} (either may be null). */
    public void attach(RunTimeline t, MetricsEndpoint m) {
        this.timeline = t;
        this.metrics = m;
        if (m != null) {
            m.functionCounter("sessions_seen", sessionsSeen, LongAdder::sum);
            m.functionCounter("sessions_replayed", sessionsReplayed, LongAdder::sum);
            m.functionCounter("sessions_incomplete", sessionsIncomplete, LongAdder::sum);
            m.functionCounter("sessions_failed", sessionsFailed, LongAdder::sum);
            m.functionCounter("sessions_not_replayed", sessionsNotReplayed, LongAdder::sum);
            m.functionCounter("requests_sent", messagesSent, LongAdder::sum);
            m.functionCounter("requests_answered", messagesAnswered, LongAdder::sum);
            answers.export(m);
            tls.export(m);
            m.functionCounter("bytes_sent", bytesSent, LongAdder::sum);
            m.functionCounter("bytes_received", bytesReceived, LongAdder::sum);
            m.functionCounter("records_consumed", recordsConsumed, LongAdder::sum);
            m.functionCounter("packets_consumed", packetsConsumed, LongAdder::sum);
            problems.forEach((r, a) -> m.functionCounter("problems", a, LongAdder::sum, "reason", r));
            leftOutByReason.forEach((r, a) -> m.functionCounter("sessions_left_out", a, LongAdder::sum, "reason", r));
        }
    }

    /** One {@code reason} happened. */
    public void problem(ReplayProblem reason) {
        problem(reason, 1);
    }

    /** {@code n} of {@code reason} happened (nothing when n is 0). */
    public void problem(ReplayProblem reason, long n) {
        if (n > 0) {
            adder(problems, reason.label(), "problems").add(n);
            RunTimeline t = timeline;
            if (t != null) {
                t.error(System.nanoTime(), reason.label());
            }
        }
    }

    /** A session read but left out before replay, by reason. */
    void leftOut(LeftOutReason reason) {
        adder(leftOutByReason, reason.label(), "sessions_left_out").increment();
    }

    private LongAdder adder(ConcurrentHashMap<String, LongAdder> map, String reason, String metric) {
        LongAdder a = map.get(reason);
        if (a == null) {
            a = map.computeIfAbsent(reason, r -> {
                LongAdder n = new LongAdder();
                MetricsEndpoint m = metrics;
                if (m != null) {
                    m.functionCounter(metric, n, LongAdder::sum, "reason", r);
                }
                return n;
            });
        }
        return a;
    }

    @Override
    public void recordConsumed() {
        recordsConsumed.increment();
    }

    @Override
    public void packetsConsumed(int packets) {
        packetsConsumed.add(packets);
    }

    @Override
    public void skipRecord(ReplayProblem reason) {
        recordsSkipped.increment();
        problem(reason);
    }

    @Override
    public void skipPackets(ReplayProblem reason, long n) {
        packetsSkipped.add(n);
        problem(reason, n);
    }

    /** Count of one problem so far. */
    public long problemCount(ReplayProblem reason) {
        LongAdder a = problems.get(reason.label());
        return a == null ? 0 : a.sum();
    }

    /** Sessions that reached an outcome. */
    public long sessionsDone() {
        return sessionsReplayed.sum() + sessionsFailed.sum() + sessionsIncomplete.sum() + sessionsNotReplayed.sum();
    }

    /** The loss ledger: captured → in window → replayed → answered, each step's difference by reason. */
    public Map<String, Object> ledger() {
        Map<String, Object> l = new LinkedHashMap<>();
        long captured = sessionsCaptured.sum();
        long inWindow = sessionsSeen.sum();
        long replayed = sessionsReplayed.sum() + sessionsIncomplete.sum();
        long answered = sessionsAnswered.sum();
        l.put("captured", captured);
        l.put("inWindow", inWindow);
        l.put("replayed", replayed);
        l.put("answered", answered);
        Map<String, Long> notes = new TreeMap<>();
        leftOutByReason.forEach((k, v) -> notes.put(k, v.sum()));
        l.put("leftOutByReason", notes);
        l.put("continuedAfterWindowEnd", sessionsContinuingAfterWindow.sum());
        Map<String, Long> notReplayed = new TreeMap<>();
        notReplayed.put("failed", sessionsFailed.sum());
        notReplayed.put("not-replayed", sessionsNotReplayed.sum());
        l.put("notReplayedByOutcome", notReplayed);
        l.put("replayedNotAllAnswered", replayed - answered);
        l.put("incompleteCaptures", sessionsIncomplete.sum());
        return l;
    }

    public ReplaySummary snapshot(double seconds) {
        Map<String, Long> p = new HashMap<>();
        problems.forEach((k, v) -> p.put(k, v.sum()));
        return new ReplaySummary(sessionsSeen.sum(), sessionsReplayed.sum(), sessionsFailed.sum(),
                sessionsIncomplete.sum(), messagesSent.sum(), messagesAnswered.sum(), bytesSent.sum(),
                bytesReceived.sum(), p, recordsConsumed.sum(), recordsSkipped.sum(),
                packetsConsumed.sum(), packetsSkipped.sum(), seconds, answers.toReport(),
                answers.webSocket.toReport(), tls.toReport());
    }
}
