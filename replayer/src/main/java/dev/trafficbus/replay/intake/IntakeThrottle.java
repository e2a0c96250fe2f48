package dev.trafficbus.replay.intake;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Holds the topic back while more captured bytes wait to be sent than the run may buffer, and lets it go again
 * at half of that; keeps the time it held the topic back, so that a flow does not look idle for having waited.
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
        // Every slot held by a session waiting for its next captured message while others queue for a slot:
        // the queued bytes can only drain after more input, so a pause would never end. Memory is then bounded
        // by the capture up to the next message (or end) of one starved session, otherwise by maxBufferedBytes.
        boolean stuck = engine.slotsStarved();
        if (!paused && pending > maxBufferedBytes && !stuck) {
            paused = true;
            pausedSince = now;
        } else if (paused && (pending <= maxBufferedBytes / 2 || stuck)) {
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
