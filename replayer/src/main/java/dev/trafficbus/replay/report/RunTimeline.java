package dev.trafficbus.replay.report;

import dev.trafficbus.replay.conversation.AnswerSink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What happened during a run, for its report: per time step the messages sent and answered, errors, and a
 * sample of the test server's answer times beside production's for the same messages; the capture's own
 * rate; and per endpoint (HTTP method + path template, or command) production's and the test server's
 * answer times, status classes and problems. Steps start at 0.1 s and double in width as the run grows,
 * so memory stays bounded and a report of any length has a readable number of points. Updated from every
 * engine thread (one lock; a few operations per message).
 */
public final class RunTimeline implements AnswerSink {
    private static final long FIRST_STEP_NANOS = 100_000_000L;
    private static final int MAX_STEPS = 1200;
    private static final int SAMPLES_PER_STEP = 400;
    private static final int SAMPLES_PER_ENDPOINT = 4000;
    private static final int MAX_ENDPOINTS = 200;
    /** Name of the group that takes every endpoint past {@link #MAX_ENDPOINTS} and answers of other protocols. */
    public static final String OTHER_ENDPOINTS = "(other)";

    private static final class Step {
        long sent;
        long answered;
        long errors;
        final LatencySample replayed = new LatencySample(SAMPLES_PER_STEP);
        final LatencySample production = new LatencySample(SAMPLES_PER_STEP);

        void merge(Step o) {
            sent += o.sent;
            answered += o.answered;
            errors += o.errors;
            replayed.merge(o.replayed);
            production.merge(o.production);
        }
    }

    private static final class Endpoint {
        long requests;
        final LatencySample replayed = new LatencySample(SAMPLES_PER_ENDPOINT);
        final LatencySample production = new LatencySample(SAMPLES_PER_ENDPOINT);
        final long[] statusClasses = new long[6];
        final TreeMap<String, Long> problems = new TreeMap<>();
    }

    /** Time 0: the first thing that happened (the consumer's start-up is left out). */
    private long startNanos;
    private boolean started;
    private long lastNanos;
    private long stepNanos = FIRST_STEP_NANOS;
    private final ArrayList<Step> steps = new ArrayList<>();
    // The capture's own timing: messages by capture time since the first one sent.
    private long captureBaseMicros = Long.MIN_VALUE;
    private long captureLastMicros;
    private long captureStepMicros = FIRST_STEP_NANOS / 1000;
    private final ArrayList<long[]> captureSteps = new ArrayList<>();
    private long captured;
    /** Answers by status code (100-599 at [code]; anything else at [0]), counted without boxing per answer. */
    private final long[] statuses = new long[600];
    private final TreeMap<String, Long> errorsByReason = new TreeMap<>();
    private final HashMap<String, Endpoint> endpoints = new HashMap<>();
    private final LatencySample allReplayed = new LatencySample(SAMPLES_PER_ENDPOINT);
    private final LatencySample allProduction = new LatencySample(SAMPLES_PER_ENDPOINT);

    /** A timeline whose time 0 is its first event. */
    public RunTimeline() {
    }

    private Step at(long nowNanos) {
        if (!started) {
            started = true;
            startNanos = nowNanos;
        }
        lastNanos = Math.max(lastNanos, nowNanos);
        long offset = Math.max(0, nowNanos - startNanos);
        while (offset / stepNanos >= MAX_STEPS) {
            // Twice as wide: pairs of steps become one.
            for (int i = 0; i < steps.size(); i += 2) {
                Step merged = steps.get(i);
                if (i + 1 < steps.size()) {
                    merged.merge(steps.get(i + 1));
                }
                steps.set(i / 2, merged);
            }
            steps.subList((steps.size() + 1) / 2, steps.size()).clear();
            stepNanos *= 2;
        }
        int s = (int) (offset / stepNanos);
        while (steps.size() <= s) {
            steps.add(new Step());
        }
        return steps.get(s);
    }

    /** A message captured at {@code capturedAtMicros} was written. */
    public synchronized void sent(long nowNanos, long capturedAtMicros) {
        at(nowNanos).sent++;
        captured++;
        if (captureBaseMicros == Long.MIN_VALUE) {
            captureBaseMicros = capturedAtMicros;
        }
        captureLastMicros = Math.max(captureLastMicros, capturedAtMicros);
        long offset = Math.max(0, capturedAtMicros - captureBaseMicros);
        while (offset / captureStepMicros >= MAX_STEPS) {
            for (int i = 0; i < captureSteps.size(); i += 2) {
                long n = captureSteps.get(i)[0] + (i + 1 < captureSteps.size() ? captureSteps.get(i + 1)[0] : 0);
                captureSteps.set(i / 2, new long[] {n});
            }
            captureSteps.subList((captureSteps.size() + 1) / 2, captureSteps.size()).clear();
            captureStepMicros *= 2;
        }
        int s = (int) (offset / captureStepMicros);
        while (captureSteps.size() <= s) {
            captureSteps.add(new long[1]);
        }
        captureSteps.get(s)[0]++;
    }

    @Override
    public synchronized void answered(long nowNanos, String endpoint, long latencyNanos) {
        Step s = at(nowNanos);
        s.answered++;
        long micros = latencyNanos / 1000;
        s.replayed.add(micros);
        allReplayed.add(micros);
        Endpoint e = endpoint(endpoint);
        e.requests++;
        e.replayed.add(micros);
    }

    @Override
    public synchronized void production(long nowNanos, String endpoint, long micros) {
        at(nowNanos).production.add(micros);
        allProduction.add(micros);
        endpoint(endpoint).production.add(micros);
    }

    /** Something went wrong ({@code reason} as in the ledger's problems). */
    public synchronized void error(long nowNanos, String reason) {
        at(nowNanos).errors++;
        errorsByReason.merge(reason, 1L, Long::sum);
    }

    @Override
    public synchronized void endpointProblem(String endpoint, String reason) {
        endpoint(endpoint).problems.merge(reason, 1L, Long::sum);
    }

    @Override
    public synchronized void status(String endpoint, int code) {
        statuses[code >= 100 && code < 600 ? code : 0]++;
        endpoint(endpoint).statusClasses[Math.min(5, Math.max(0, code / 100))]++;
    }

    private Endpoint endpoint(String name) {
        String key = name == null ? OTHER_ENDPOINTS : name;
        Endpoint e = endpoints.get(key);
        if (e == null) {
            if (endpoints.size() >= MAX_ENDPOINTS) {
                key = OTHER_ENDPOINTS;
                e = endpoints.get(key);
            }
            if (e == null) {
                e = new Endpoint();
                endpoints.put(key, e);
            }
        }
        return e;
    }

    /**
     * The timeline for a report: {@code activeSeconds} (first to last event), {@code stepSeconds} and {@code steps} rows {startSeconds, sent, answered,
     * errors, replayedMs, productionMs} (percentiles in milliseconds; null when nothing was answered in the
     * step); {@code capture} (the capture's own rate); {@code latencyMs} overall; {@code endpoints};
     * {@code statusCodes}; {@code errors} by reason. Steps are merged so at most about 120 remain.
     */
    public synchronized Map<String, Object> toReport() {
        int merge = Math.max(1, (steps.size() + 119) / 120);
        long width = stepNanos * merge;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < steps.size(); i += merge) {
            Step sum = new Step();
            for (int k = i; k < Math.min(steps.size(), i + merge); k++) {
                sum.merge(steps.get(k));
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("startSeconds", seconds((long) i * stepNanos));
            row.put("sent", sum.sent);
            row.put("answered", sum.answered);
            row.put("errors", sum.errors);
            row.put("replayedMs", sum.replayed.percentilesMs());
            row.put("productionMs", sum.production.percentilesMs());
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("activeSeconds", started ? seconds(lastNanos - startNanos) : 0.0);
        out.put("stepSeconds", seconds(width));
        out.put("steps", rows);
        out.put("capture", capture());
        Map<String, Object> overall = new LinkedHashMap<>();
        overall.put("productionMs", allProduction.percentilesMs());
        overall.put("replayedMs", allReplayed.percentilesMs());
        out.put("latencyMs", overall);
        out.put("endpoints", endpointRows());
        Map<String, Long> codes = new LinkedHashMap<>();
        for (int k = 1; k <= statuses.length; k++) {
            if (statuses[k % statuses.length] > 0) {
                codes.put(k == statuses.length ? "other" : Integer.toString(k), statuses[k % statuses.length]);
            }
        }
        out.put("statusCodes", codes);
        out.put("errors", new LinkedHashMap<>(errorsByReason));
        return out;
    }

    private Map<String, Object> capture() {
        Map<String, Object> c = new LinkedHashMap<>();
        double span = captured > 0 ? (captureLastMicros - captureBaseMicros) / 1e6 : 0;
        c.put("messages", captured);
        c.put("seconds", Math.round(span * 1000) / 1000.0);
        c.put("perSecond", span > 0 ? Math.round(captured / span * 10) / 10.0 : null);
        int merge = Math.max(1, (captureSteps.size() + 119) / 120);
        c.put("stepSeconds", captureStepMicros * merge / 1e6);
        List<Long> perStep = new ArrayList<>();
        for (int i = 0; i < captureSteps.size(); i += merge) {
            long n = 0;
            for (int k = i; k < Math.min(captureSteps.size(), i + merge); k++) {
                n += captureSteps.get(k)[0];
            }
            perStep.add(n);
        }
        c.put("sentPerStep", perStep);
        return c;
    }

    private List<Map<String, Object>> endpointRows() {
        List<Map.Entry<String, Endpoint>> sorted = new ArrayList<>(endpoints.entrySet());
        sorted.sort((a, b) -> Long.compare(b.getValue().requests + b.getValue().production.count(),
                a.getValue().requests + a.getValue().production.count()));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map.Entry<String, Endpoint> en : sorted) {
            Endpoint e = en.getValue();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("endpoint", en.getKey());
            r.put("answered", e.requests);
            r.put("productionMs", e.production.percentilesMs());
            r.put("replayedMs", e.replayed.percentilesMs());
            Map<String, Long> classes = new LinkedHashMap<>();
            for (int k = 1; k <= 5; k++) {
                if (e.statusClasses[k] > 0) {
                    classes.put(k + "xx", e.statusClasses[k]);
                }
            }
            r.put("statusClasses", classes);
            r.put("problems", new LinkedHashMap<>(e.problems));
            rows.add(r);
        }
        return rows;
    }

    private static double seconds(long nanos) {
        return Math.round(nanos / 1e6) / 1000.0;
    }
}
