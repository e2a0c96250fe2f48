package dev.trafficbus.replay.intake;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Where reading one assigned partition starts and stops. Starts at the window start (found by record time),
 * else at the group's committed offset, else the earliest. New sessions are taken up to {@code stop}, the
 * first record at or past the window end; records beyond it only complete sessions that began inside, or start
 * one first captured inside the window whose record came late (record times are only roughly in order).
 * Never reads past {@code endAtStart}, the partition's end when it was assigned, in a bounded run.
 */
public final class PartitionPlan {
    final TopicPartition tp;
    /** Offset every pass starts from. */
    final long start;
    /** First offset whose records may not start a session (Long.MAX_VALUE: no window end). */
    final long stop;
    /** The partition's end offset when assigned. */
    final long endAtStart;
    /** Records exist before {@code start}: a session without its SYN here may have begun before. */
    final boolean recordsBefore;
    /** Sessions a previous run finished beyond its commit point (skipped as already replayed). */
    final Set<Long> finishedBefore;
    boolean done;
    long lastTsMicros = Long.MIN_VALUE;

    private PartitionPlan(TopicPartition tp, long start, long stop, long endAtStart, boolean recordsBefore,
                          Set<Long> finishedBefore) {
        this.tp = tp;
        this.start = start;
        this.stop = stop;
        this.endAtStart = endAtStart;
        this.recordsBefore = recordsBefore;
        this.finishedBefore = finishedBefore;
    }

    /** Offsets whose records this pass reads to start sessions: from start to the window end or partition end. */
    long rangeEnd(boolean bounded) {
        return bounded ? Math.min(stop, endAtStart) : Long.MAX_VALUE;
    }

    /**
     * Plans the newly assigned {@code partitions} and seeks them to their start. {@code bounded}: the run ends
     * at the window end or at the end offsets of now.
     */
    static Map<TopicPartition, PartitionPlan> plan(Consumer<?, ?> consumer, Collection<TopicPartition> partitions,
                                                   ReplayWindow window, boolean bounded) {
        Map<TopicPartition, PartitionPlan> out = new HashMap<>();
        if (partitions.isEmpty()) {
            return out;
        }
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        Map<TopicPartition, Long> begins = consumer.beginningOffsets(partitions);
        Map<TopicPartition, OffsetAndTimestamp> fromOffsets = window.from() == null ? Map.of()
                : consumer.offsetsForTimes(times(partitions, Math.floorDiv(window.fromMicros(), 1000L)));
        Map<TopicPartition, OffsetAndTimestamp> toOffsets = window.to() == null ? Map.of()
                : consumer.offsetsForTimes(times(partitions, -Math.floorDiv(-window.toMicros(), 1000L)));
        Map<TopicPartition, OffsetAndMetadata> committed = window.from() == null
                ? consumer.committed(new HashSet<>(partitions)) : Map.of();
        for (TopicPartition tp : partitions) {
            long end = ends.getOrDefault(tp, 0L);
            long begin = begins.getOrDefault(tp, 0L);
            long start;
            Set<Long> finished = Set.of();
            if (window.from() != null) {
                OffsetAndTimestamp o = fromOffsets.get(tp);
                start = o == null ? end : o.offset();
                consumer.seek(tp, start);
            } else {
                start = consumer.position(tp);
                finished = OffsetLedger.finishedBeyond(committed.get(tp));
            }
            long stop;
            if (window.to() != null) {
                OffsetAndTimestamp o = toOffsets.get(tp);
                stop = o == null ? end : o.offset();
            } else {
                stop = bounded ? end : Long.MAX_VALUE;
            }
            out.put(tp, new PartitionPlan(tp, start, stop, end, start > begin, finished));
        }
        return out;
    }

    private static Map<TopicPartition, Long> times(Collection<TopicPartition> partitions, long millis) {
        Map<TopicPartition, Long> m = new HashMap<>();
        for (TopicPartition tp : partitions) {
            m.put(tp, millis);
        }
        return m;
    }
}
