package dev.trafficbus.replay.conversation;

import dev.trafficbus.metrics.MetricsEndpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * How the run's answers were judged, counted by {@link Judgement}: framing means the replay knew, the others
 * that it fell back to the captured size, a quiet period, the close or the timeout. Updated from every
 * engine thread; exported as {@code answers_judged{by="framing"}} etc. The WebSocket frames the conversations
 * read are counted beside them.
 */
public final class AnswerCounts {
    /** WebSocket frames by direction and opcode. */
    public final WebSocketCounts webSocket = new WebSocketCounts();
    private final LongAdder[] counts = new LongAdder[Judgement.values().length];

    public AnswerCounts() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** One answer was judged {@code j}. */
    public void count(Judgement j) {
        counts[j.ordinal()].increment();
    }

    /** Answers judged {@code j} so far. */
    public long get(Judgement j) {
        return counts[j.ordinal()].sum();
    }

    /** Exports every count to {@code m}. */
    public void export(MetricsEndpoint m) {
        for (Judgement j : Judgement.values()) {
            m.functionCounter("answers_judged", counts[j.ordinal()], LongAdder::sum, "by", j.label());
        }
        webSocket.export(m);
    }

    /** {@code {framing: n, size: n, silence: n, close: n, timeout: n}}, every judgement present. */
    public Map<String, Long> toReport() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Judgement j : Judgement.values()) {
            m.put(j.label(), get(j));
        }
        return m;
    }
}
