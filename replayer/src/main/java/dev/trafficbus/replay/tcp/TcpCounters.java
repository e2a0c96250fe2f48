package dev.trafficbus.replay.tcp;

import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.intake.CaptureRecordReader;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The tcp engine's ledger, in the socket engine's shape: every session seen ends as exactly one of replayed,
 * incomplete, failed or not replayed; problems are counted by reason.
 */
public final class TcpCounters implements CaptureRecordReader.Intake {
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
    /** Records whose value did not decode. */
    final LongAdder recordsSkipped = new LongAdder();
    /** Packets of the records that decoded: every one is handed on or counted in {@link #packetsSkipped}. */
    final LongAdder packetsConsumed = new LongAdder();
    final LongAdder packetsSkipped = new LongAdder();
    final LongAdder packetsSent = new LongAdder();
    final LongAdder packetsRelayed = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> problems = new ConcurrentHashMap<>();

    void problem(String reason) {
        problem(reason, 1);
    }

    void problem(String reason, long n) {
        if (n > 0) {
            problems.computeIfAbsent(reason, r -> new LongAdder()).add(n);
        }
    }

    void ended(SessionOutcome outcome) {
        switch (outcome) {
            case REPLAYED -> sessionsReplayed.increment();
            case INCOMPLETE -> sessionsIncomplete.increment();
            case FAILED -> sessionsFailed.increment();
            case NOT_REPLAYED -> sessionsNotReplayed.increment();
        }
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
    public void skipRecord(String reason) {
        recordsSkipped.increment();
        problem(reason);
    }

    @Override
    public void skipPackets(String reason, long n) {
        packetsSkipped.add(n);
        problem(reason, n);
    }

    /** Count of one problem reason so far. */
    long problemCount(String reason) {
        LongAdder a = problems.get(reason);
        return a == null ? 0 : a.sum();
    }

    /** Sessions that reached an outcome. */
    long sessionsDone() {
        return sessionsReplayed.sum() + sessionsFailed.sum() + sessionsIncomplete.sum() + sessionsNotReplayed.sum();
    }

    /** The ledger so far, for a run of {@code seconds}. */
    public ReplaySummary snapshot(double seconds) {
        Map<String, Long> p = new HashMap<>();
        problems.forEach((k, v) -> p.put(k, v.sum()));
        return new ReplaySummary(sessionsSeen.sum(), sessionsReplayed.sum(), sessionsFailed.sum(),
                sessionsIncomplete.sum(), messagesSent.sum(), messagesAnswered.sum(), bytesSent.sum(),
                bytesReceived.sum(), p, recordsConsumed.sum(), recordsSkipped.sum(),
                packetsConsumed.sum(), packetsSkipped.sum(), seconds);
    }
}
