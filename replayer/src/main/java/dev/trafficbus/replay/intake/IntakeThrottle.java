package dev.trafficbus.replay.intake;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decides when the topic is held back: while the consumer has read far enough ahead, until it is back at half
 * of that; keeps the time it held the topic back, so that a flow does not look idle for having waited. Far
 * enough is more captured bytes waiting to be sent than the run may buffer, or as many sessions waiting for a
 * connection slot as there are slots: at --speed max the consumer would otherwise read the whole topic into
 * sessions that wait their turn (25,000 of 30,000 at once for 50 connections), and the collector copies what
 * they hold again and again while they wait. A partition that a slot's session waits on is read all the same
 * while only the queue is long: each partition is read in its own order, and a capture spread over six read
 * at once had 7–36 of 50 slots waiting for their next message while the topic was held back for the others.
 */
final class IntakeThrottle {
    private final IntakeLoad engine;
    private final long maxBufferedBytes;
    private boolean paused;
    /** Paused at the last {@link #apply}: the partitions held back then are to be let go. */
    private boolean wasPaused;
    /** Held back for memory: no partition is read, not even one a slot waits on. */
    private boolean full;
    private long pausedSince;
    private long pausedTotal;

    IntakeThrottle(IntakeLoad engine, long maxBufferedBytes) {
        this.engine = engine;
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /** Holds the topic back or lets it go for what the engine holds now. */
    void update(long now) {
        long pending = engine.pendingBytes();
        int slots = engine.connectionSlots();
        int starved = engine.starvedSlots();
        int waiting = engine.sessionsWaitingForSlot();
        // Every slot in use held by a session waiting for its next captured message while others queue (for a
        // slot, or for a free client endpoint on the tcp engine): the queued bytes can only drain after more
        // input, so a pause would never end. Memory is then bounded by the capture up to the next message (or
        // end) of one starved session, otherwise by maxBufferedBytes.
        boolean stuck = waiting > 0 && starved > 0 && starved >= engine.slotsInUse();
        full = !stuck && pending > maxBufferedBytes;
        if (!paused && !stuck && (full || waiting >= slots)) {
            paused = true;
            pausedSince = now;
        } else if (paused && (stuck || (pending <= maxBufferedBytes / 2 && waiting <= slots / 2))) {
            end(now);
        }
    }

    /** True when {@code partition} is read now: the topic is not held back, or a slot waits on the partition. */
    boolean reads(int partition) {
        return !paused || (!full && engine.starvedOn(partition));
    }

    /**
     * Pauses and resumes {@code consumer}'s partitions as {@link #reads} says; partitions whose plan is done stay
     * paused.
     */
    void apply(Consumer<?, ?> consumer, Map<TopicPartition, PartitionPlan> plans) {
        if (!paused && !wasPaused) {
            return;
        }
        wasPaused = paused;
        List<TopicPartition> hold = new ArrayList<>();
        List<TopicPartition> read = new ArrayList<>();
        for (TopicPartition tp : consumer.assignment()) {
            PartitionPlan plan = plans.get(tp);
            ((plan == null || !plan.done) && reads(tp.partition()) ? read : hold).add(tp);
        }
        consumer.pause(hold);
        consumer.resume(read);
    }

    /** Ends a pause (a new loop pass resumes every partition itself). */
    void end(long now) {
        if (paused) {
            paused = false;
            pausedTotal += now - pausedSince;
        }
    }

    /** True while the topic is held back (but for the partitions {@link #reads} names). */
    boolean paused() {
        return paused;
    }

    /** Wall time that passed while consuming, not while paused: being held back does not make a flow idle. */
    long activeNanos(long now) {
        return now - pausedTotal - (paused ? now - pausedSince : 0);
    }
}
