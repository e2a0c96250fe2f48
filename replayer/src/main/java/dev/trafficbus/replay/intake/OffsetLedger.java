package dev.trafficbus.replay.intake;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which offsets may be committed without losing a session: per partition, the first record of every session
 * not finished yet holds the commit point back. A record may hold the start of more than one session (one
 * ends and the next begins in it); it counts as finished only when all of them are. Sessions finished beyond
 * the commit point travel in the commit's metadata, so a restarted replayer can skip them instead of replaying
 * them twice.
 * Sessions open on the consumer thread and finish on event loops.
 */
public final class OffsetLedger {
    /** Kept below the broker's default offset.metadata.max.bytes (4096). */
    private static final int MAX_METADATA_CHARS = 3500;

    private final Map<Integer, TreeMap<Long, Integer>> open = new HashMap<>();
    private final Map<Integer, TreeSet<Long>> finishedAhead = new HashMap<>();

    /** A session whose first record is {@code offset} of {@code partition} started. */
    public synchronized void open(int partition, long offset) {
        open.computeIfAbsent(partition, p -> new TreeMap<>()).merge(offset, 1, Integer::sum);
    }

    /** That session reached its outcome; its records no longer need to be read again. */
    public synchronized void finish(int partition, long offset) {
        TreeMap<Long, Integer> m = open.get(partition);
        if (m == null || m.get(offset) == null) {
            return;
        }
        if (m.merge(offset, -1, Integer::sum) <= 0) {
            m.remove(offset);
        }
        finishedAhead.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset);
    }

    /** Sessions of {@code partition} not finished. */
    synchronized int openSessions(int partition) {
        TreeMap<Long, Integer> m = open.get(partition);
        return m == null ? 0 : m.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * The offset to commit for {@code partition} whose consumer position is {@code position}: the first record
     * of its oldest unfinished session, else the position; with the finished sessions past that point.
     */
    synchronized OffsetAndMetadata commitPoint(int partition, long position) {
        TreeMap<Long, Integer> m = open.get(partition);
        long point = m == null || m.isEmpty() ? position : Math.min(position, m.firstKey());
        TreeSet<Long> done = finishedAhead.get(partition);
        if (done == null) {
            return new OffsetAndMetadata(point);
        }
        done.headSet(point).clear();
        StringBuilder sb = new StringBuilder();
        for (long o : done) {
            if (m != null && m.containsKey(o)) {
                continue; // another session begun in the same record is still running: that record is not done
            }
            String s = Long.toString(o - point, 36);
            if (sb.length() + s.length() + 1 > MAX_METADATA_CHARS) {
                break; // the rest is replayed again after a restart: at-least-once
            }
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(s);
        }
        return new OffsetAndMetadata(point, sb.toString());
    }

    /** Forgets the partitions given up; their sessions are continued by whoever gets them. */
    synchronized void forget(Set<Integer> partitions) {
        open.keySet().removeAll(partitions);
        finishedAhead.keySet().removeAll(partitions);
    }

    /** The offsets of sessions a previous run finished beyond its commit point, from that commit's metadata. */
    static Set<Long> finishedBeyond(OffsetAndMetadata committed) {
        Set<Long> out = new HashSet<>();
        if (committed == null || committed.metadata() == null || committed.metadata().isEmpty()) {
            return out;
        }
        for (String s : committed.metadata().split(",")) {
            try {
                out.add(committed.offset() + Long.parseLong(s, 36));
            } catch (NumberFormatException e) {
                return new HashSet<>(); // not ours: trust nothing
            }
        }
        return out;
    }
}
