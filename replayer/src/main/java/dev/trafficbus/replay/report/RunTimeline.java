package dev.trafficbus.replay.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What happened during a run, second by second: messages sent and answered, errors, and a bounded sample of
 * answer latencies per second (for percentiles over time); plus the status code mix of HTTP answers.
 * Updated from every event loop; cheap enough per message.
 */
public final class RunTimeline {
    private static final int SAMPLES_PER_SECOND = 1000;
    private static final int MAX_SECONDS = 24 * 3600;

    private static final class Second {
        long sent;
        long answered;
        long errors;
        long latencyCount;
        long[] samples = new long[16];
        int sampleCount;
    }

    private final long startNanos;
    private final ArrayList<Second> seconds = new ArrayList<>();
    private final TreeMap<Integer, Long> statuses = new TreeMap<>();
    private final TreeMap<String, Long> errorsByReason = new TreeMap<>();

    /** A timeline whose second 0 starts now. */
    public RunTimeline() {
        this.startNanos = System.nanoTime();
    }

    private Second at(long nowNanos) {
        int s = (int) Math.min(MAX_SECONDS, Math.max(0, (nowNanos - startNanos) / 1_000_000_000L));
        while (seconds.size() <= s) {
            seconds.add(new Second());
        }
        return seconds.get(s);
    }

    /** A message was written. */
    public synchronized void sent(long nowNanos) {
        at(nowNanos).sent++;
    }

    /** A message was answered after {@code latencyNanos} (negative: its latency is recorded otherwise). */
    public synchronized void answered(long nowNanos, long latencyNanos) {
        at(nowNanos).answered++;
        if (latencyNanos >= 0) {
            latency(nowNanos, latencyNanos);
        }
    }

    /** One answer latency (a message's, or an HTTP response's when the stream is HTTP). */
    public synchronized void latency(long nowNanos, long latencyNanos) {
        Second s = at(nowNanos);
        s.latencyCount++;
        long micros = latencyNanos / 1000;
        // Reservoir sampling keeps a fair sample of every second however busy it was.
        if (s.sampleCount < SAMPLES_PER_SECOND) {
            if (s.sampleCount == s.samples.length) {
                s.samples = Arrays.copyOf(s.samples, Math.min(SAMPLES_PER_SECOND, s.samples.length * 2));
            }
            s.samples[s.sampleCount++] = micros;
        } else {
            long j = ThreadLocalRandom.current().nextLong(s.latencyCount);
            if (j < SAMPLES_PER_SECOND) {
                s.samples[(int) j] = micros;
            }
        }
    }

    /** Something went wrong ({@code reason} as in the ledger's problems). */
    public synchronized void error(long nowNanos, String reason) {
        at(nowNanos).errors++;
        errorsByReason.merge(reason, 1L, Long::sum);
    }

    /** An HTTP answer with this status arrived. */
    public synchronized void status(int code) {
        statuses.merge(code, 1L, Long::sum);
    }

    /**
     * The timeline for a report: {@code perSecond} rows {second, sent, answered, errors, p50, p90, p99, max}
     * (latencies in microseconds, -1 when nothing was answered that second), merged into wider steps so at
     * most 600 rows remain; {@code statusCodes}; {@code errors} by reason.
     */
    public synchronized Map<String, Object> toReport() {
        int step = Math.max(1, (seconds.size() + 599) / 600);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < seconds.size(); i += step) {
            long sent = 0;
            long answered = 0;
            long errors = 0;
            long[] all = new long[0];
            int n = 0;
            for (int k = i; k < Math.min(seconds.size(), i + step); k++) {
                Second s = seconds.get(k);
                sent += s.sent;
                answered += s.answered;
                errors += s.errors;
                all = Arrays.copyOf(all, n + s.sampleCount);
                System.arraycopy(s.samples, 0, all, n, s.sampleCount);
                n += s.sampleCount;
            }
            Arrays.sort(all);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("second", i);
            row.put("seconds", Math.min(step, seconds.size() - i));
            row.put("sent", sent);
            row.put("answered", answered);
            row.put("errors", errors);
            row.put("p50Micros", pct(all, 0.50));
            row.put("p90Micros", pct(all, 0.90));
            row.put("p99Micros", pct(all, 0.99));
            row.put("maxMicros", all.length == 0 ? -1 : all[all.length - 1]);
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("perSecond", rows);
        Map<String, Long> codes = new LinkedHashMap<>();
        statuses.forEach((k, v) -> codes.put(Integer.toString(k), v));
        out.put("statusCodes", codes);
        out.put("errors", new LinkedHashMap<>(errorsByReason));
        return out;
    }

    private static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int idx = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }
}
