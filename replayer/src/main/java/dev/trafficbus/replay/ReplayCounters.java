package dev.trafficbus.replay;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** The run's counters, updated from the consumer thread and every event loop. */
final class ReplayCounters {
    final LongAdder sessionsSeen = new LongAdder();
    final LongAdder sessionsReplayed = new LongAdder();
    final LongAdder sessionsFailed = new LongAdder();
    final LongAdder sessionsIncomplete = new LongAdder();
    final LongAdder sessionsNotReplayed = new LongAdder();
    final LongAdder messagesSent = new LongAdder();
    final LongAdder messagesAnswered = new LongAdder();
    final LongAdder bytesSent = new LongAdder();
    final LongAdder bytesReceived = new LongAdder();
    final LongAdder recordsConsumed = new LongAdder();
    final LongAdder recordsSkipped = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> problems = new ConcurrentHashMap<>();

    void problem(String reason) {
        problem(reason, 1);
    }

    void problem(String reason, long n) {
        if (n > 0) {
            problems.computeIfAbsent(reason, r -> new LongAdder()).add(n);
        }
    }

    void skipRecord(String reason) {
        recordsSkipped.increment();
        problem(reason);
    }

    /** Sessions that reached an outcome. */
    long sessionsDone() {
        return sessionsReplayed.sum() + sessionsFailed.sum() + sessionsIncomplete.sum() + sessionsNotReplayed.sum();
    }

    ReplaySummary snapshot(double seconds) {
        Map<String, Long> p = new HashMap<>();
        problems.forEach((k, v) -> p.put(k, v.sum()));
        return new ReplaySummary(sessionsSeen.sum(), sessionsReplayed.sum(), sessionsFailed.sum(),
                sessionsIncomplete.sum(), messagesSent.sum(), messagesAnswered.sum(), bytesSent.sum(),
                bytesReceived.sum(), p, recordsConsumed.sum(), recordsSkipped.sum(), seconds);
    }
}
