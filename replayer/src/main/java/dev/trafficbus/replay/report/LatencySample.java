package dev.trafficbus.replay.report;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A bounded, fair sample of latencies (reservoir sampling) with the exact count, for percentiles of any
 * number of answers in fixed memory. Not thread-safe: its owner locks.
 */
final class LatencySample {
    private final int capacity;
    private long[] micros = new long[8];
    private int size;
    private long count;

    LatencySample(int capacity) {
        this.capacity = capacity;
    }

    void add(long latencyMicros) {
        count++;
        if (size < capacity) {
            if (size == micros.length) {
                micros = Arrays.copyOf(micros, Math.min(capacity, micros.length * 2));
            }
            micros[size++] = latencyMicros;
        } else {
            long j = ThreadLocalRandom.current().nextLong(count);
            if (j < capacity) {
                micros[(int) j] = latencyMicros;
            }
        }
    }

    /** Adds {@code other}'s sample, each value weighted as a draw (used when two time steps become one). */
    void merge(LatencySample other) {
        for (int i = 0; i < other.size; i++) {
            add(other.micros[i]);
        }
        count += other.count - other.size;
    }

    long count() {
        return count;
    }

    /** {p50, p90, p99, max} in milliseconds (3 decimals) and the count; null when empty. */
    Map<String, Object> percentilesMs() {
        if (size == 0) {
            return null;
        }
        long[] s = Arrays.copyOf(micros, size);
        Arrays.sort(s);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50", ms(pct(s, 0.50)));
        m.put("p90", ms(pct(s, 0.90)));
        m.put("p99", ms(pct(s, 0.99)));
        m.put("max", ms(s[s.length - 1]));
        m.put("count", count);
        return m;
    }

    private static double ms(long micros) {
        return Math.round(micros) / 1000.0;
    }

    private static long pct(long[] sorted, double p) {
        int idx = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }
}
