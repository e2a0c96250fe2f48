package dev.trafficbus.replay.tls;

import dev.trafficbus.metrics.MetricsEndpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The run's completed TLS handshakes: {@code full} (certificate checked, key exchange), {@code resumed} (a session
 * the target issued before, by ticket or id), {@code unknown} (the JDK's TLS cannot tell). Updated from every event
 * loop; exported as {@code tls_handshakes{kind="full"}} etc.
 */
public final class TlsHandshakes {
    /** How a handshake went. */
    public enum Kind { FULL, RESUMED, UNKNOWN }

    private final LongAdder[] counts = {new LongAdder(), new LongAdder(), new LongAdder()};

    void count(Kind k) {
        counts[k.ordinal()].increment();
    }

    /** Handshakes of kind {@code k} so far. */
    public long get(Kind k) {
        return counts[k.ordinal()].sum();
    }

    /** Exports every count to {@code m}. */
    public void export(MetricsEndpoint m) {
        for (Kind k : Kind.values()) {
            m.functionCounter("tls_handshakes", counts[k.ordinal()], LongAdder::sum, "kind", label(k));
        }
    }

    /** {@code {full: n, resumed: n, unknown: n}}, or empty when the run made no TLS handshake. */
    public Map<String, Long> toReport() {
        Map<String, Long> m = new LinkedHashMap<>();
        long all = 0;
        for (Kind k : Kind.values()) {
            all += get(k);
        }
        if (all > 0) {
            for (Kind k : Kind.values()) {
                m.put(label(k), get(k));
            }
        }
        return m;
    }

    private static String label(Kind k) {
        return k.name().toLowerCase(java.util.Locale.ROOT);
    }
}
