package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.metrics.MetricsEndpoint;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * All counters of one processor instance: per subscription ({@link SubscriptionCounters}), records read per
 * source, and dead letters by reason. Each counter is exported on the metrics endpoint, when one is given, as
 * {@code trafficbus_process_<what>_total} the moment it is first used.
 */
public final class ProcessorCounters {
    private final MetricsEndpoint metrics;
    private final Map<String, SubscriptionCounters> subscriptions = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> recordsIn = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> deadLetters = new ConcurrentHashMap<>();

    /** Counters exported on {@code metrics} (null: kept in memory only). */
    public ProcessorCounters(MetricsEndpoint metrics) {
        this.metrics = metrics;
    }

    /** The counters of subscription {@code name}, created on first use; they survive a replace. */
    public SubscriptionCounters of(String name) {
        SubscriptionCounters c = subscriptions.get(name);
        return c != null ? c : subscriptions.computeIfAbsent(name, this::create);
    }

    private SubscriptionCounters create(String name) {
        SubscriptionCounters c = new SubscriptionCounters((reason, adder) -> export("sessions_dropped", adder,
                "subscription", name, "reason", reason));
        export("packets_in", c.packetsIn, "subscription", name);
        export("packets_out", c.packetsOut, "subscription", name);
        export("records_out", c.recordsOut, "subscription", name);
        export("sessions_in", c.sessionsIn, "subscription", name);
        export("sessions_kept", c.sessionsKept, "subscription", name);
        export("fields_redacted", c.fieldsRedacted, "subscription", name);
        return c;
    }

    /** Counts a record read from capture topic {@code topic}. */
    void recordIn(String topic) {
        LongAdder a = recordsIn.get(topic);
        if (a == null) {
            a = recordsIn.computeIfAbsent(topic, t -> exported("records_in", "source", sourceOf(t)));
        }
        a.increment();
    }

    private static String sourceOf(String topic) {
        return topic.startsWith(Topics.CAPTURE_PREFIX) ? topic.substring(Topics.CAPTURE_PREFIX.length()) : topic;
    }

    void deadLetter(String reason) {
        LongAdder a = deadLetters.get(reason);
        if (a == null) {
            a = deadLetters.computeIfAbsent(reason, r -> exported("records_deadlettered", "reason", r));
        }
        a.increment();
    }

    /** Records that went to the dead-letter topic, by reason. */
    public Map<String, Long> deadLettersByReason() {
        Map<String, Long> out = new TreeMap<>();
        deadLetters.forEach((r, a) -> out.put(r, a.sum()));
        return out;
    }

    /** Records read, by source. */
    public Map<String, Long> recordsInBySource() {
        Map<String, Long> out = new TreeMap<>();
        recordsIn.forEach((t, a) -> out.merge(sourceOf(t), a.sum(), Long::sum));
        return out;
    }

    /** Names of the subscriptions counted so far (also removed ones). */
    public Map<String, SubscriptionCounters> subscriptions() {
        return new TreeMap<>(subscriptions);
    }

    private LongAdder exported(String what, String... tags) {
        LongAdder a = new LongAdder();
        export(what, a, tags);
        return a;
    }

    private void export(String what, LongAdder adder, String... tags) {
        if (metrics != null) {
            metrics.functionCounter(what, adder, LongAdder::sum, tags);
        }
    }
}
