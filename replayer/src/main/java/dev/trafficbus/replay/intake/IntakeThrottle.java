package dev.trafficbus.replay.intake;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Holds the topic back while the consumer has read far enough ahead, and lets it go again at half of that; keeps
 * the time it held the topic back, so that a flow does not look idle for having waited. Far enough is more
 * captured bytes waiting to be sent than the run may buffer, or as many sessions waiting for a connection slot
 * as there are slots (four times as many while a slot's session waits for more of the capture): at --speed max
 * the consumer would otherwise read the whole topic into sessions that wait their turn (25,000 of 30,000 at
 * once for 50 connections), and the collector copies what they hold again and again while they wait.
 */
final class IntakeThrottle {
    private final Consumer<?, ?> consumer;
    private final Engine engine;
    private final long maxBufferedBytes;
    private boolean paused;
    private long pausedSince;
    private long pausedTotal;

    IntakeThrottle(Consumer<?, ?> consumer, Engine engine, long maxBufferedBytes) {
        this.consumer = consumer;
        this.engine = engine;
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /** Pauses or resumes the consumer for what the engine holds now; partitions of {@code plans} done stay paused. */
    void update(long now, Collection<PartitionPlan> plans) {
        long pending = engine.pendingBytes();
        int slots = engine.connectionSlots();
        int starved = engine.starvedSlots();
        int waiting = engine.sessionsWaitingForSlot();
        // Every slot in use held by a session waiting for its next captured message while others queue (for a
        // slot, or for a free client endpoint on the tcp engine): the queued bytes can only drain after more
        // input, so a pause would never end. Memory is then bounded by the capture up to the next message (or
        // end) of one starved session, otherwise by maxBufferedBytes.
        boolean stuck = waiting > 0 && starved > 0 && starved >= engine.slotsInUse();
        // A slot whose session needs more of the capture is fed first, up to four times as many queued sessions.
        int queueMost = starved > 0 ? 4 * slots : slots;
        if (!paused && !stuck && (pending > maxBufferedBytes || waiting >= queueMost)) {
            paused = true;
            pausedSince = now;
        } else if (paused && (stuck || (pending <= maxBufferedBytes / 2 && waiting <= queueMost / 2))) {
            end(now);
            Set<TopicPartition> resume = new HashSet<>(consumer.paused());
            for (PartitionPlan p : plans) {
                if (p.done) {
                    resume.remove(p.tp);
                }
            }
            consumer.resume(resume);
        }
        if (paused) {
            consumer.pause(consumer.assignment()); // again after a rebalance added partitions
        }
    }

    /** Ends a pause (a new loop pass resumes every partition itself). */
    void end(long now) {
        if (paused) {
            paused = false;
            pausedTotal += now - pausedSince;
        }
    }

    /** True while the topic is held back. */
    boolean paused() {
        return paused;
    }

    /** Wall time that passed while consuming, not while paused: being held back does not make a flow idle. */
    long activeNanos(long now) {
        return now - pausedTotal - (paused ? now - pausedSince : 0);
    }
}
