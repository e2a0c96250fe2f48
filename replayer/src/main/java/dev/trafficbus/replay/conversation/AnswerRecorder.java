package dev.trafficbus.replay.conversation;

import dev.trafficbus.replay.ReplayProblem;

/**
 * What both engines do once an answer is judged: count how it was judged, and hand the report the test
 * server's answer time beside production's for the same message (whichever of the two is known last).
 */
public final class AnswerRecorder {
    private final AnswerCounts counts;
    private final AnswerSink sink;

    /** {@code sink} may be null (no report timeline). */
    public AnswerRecorder(AnswerCounts counts, AnswerSink sink) {
        this.counts = counts;
        this.sink = sink;
    }

    /** The conversation for one session, reporting HTTP statuses to the sink. */
    public Conversation conversation(long quietNanos, long timeoutNanos) {
        return new Conversation(quietNanos, timeoutNanos, sink, counts.webSocket);
    }

    /** {@code m} was written: remember what it asks for (after {@link Conversation#sent}). */
    public void sent(CapturedMessage m, Conversation c) {
        m.endpoint = c.endpoint();
    }

    /** {@code m}'s answer was judged by {@code c} (ANSWERED or TIMED_OUT); {@code problem} names a timeout. */
    public void judged(CapturedMessage m, Conversation c, long now, ReplayProblem problem) {
        Judgement j = c.judgement();
        counts.count(j);
        m.judged = true;
        if (sink == null) {
            return;
        }
        if (j == Judgement.TIMEOUT) {
            sink.endpointProblem(m.endpoint, problem.label());
        } else {
            sink.answered(now, m.endpoint, c.answerNanos());
        }
        if (m.productionMicros >= 0) {
            sink.production(now, m.endpoint, m.productionMicros);
        }
    }

    /** {@code reason} ended the session while {@code m} waited for its answer. */
    public void failed(CapturedMessage m, ReplayProblem reason) {
        if (sink != null && m != null && !m.judged) {
            sink.endpointProblem(m.endpoint, reason.label());
        }
    }

    /** Production's answer time for {@code m} became known. */
    public void production(CapturedMessage m, long micros, long now) {
        if (m.judged) {
            if (sink != null) {
                sink.production(now, m.endpoint, micros);
            }
        } else {
            m.productionMicros = micros;
        }
    }
}
