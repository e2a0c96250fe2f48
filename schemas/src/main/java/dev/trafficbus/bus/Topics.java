package dev.trafficbus.bus;

import java.util.regex.Pattern;

/** Names of the topics on the bus, and the rules for the ids that go into them. */
public final class Topics {
    /** Prefix of every topic of the bus. */
    public static final String PREFIX = "tb.";
    /** Prefix of the raw capture topics, one per source: {@code tb.capture.<source>}. */
    public static final String CAPTURE_PREFIX = "tb.capture.";
    /** Prefix of the per-team subscription topics: {@code tb.sub.<name>}. */
    public static final String SUBSCRIPTION_PREFIX = "tb.sub.";
    /** Compacted: key = subscription name, value = its definition as JSON; a tombstone removes it. */
    public static final String SUBSCRIPTIONS = "tb.subscriptions";
    /** Compacted: key = {@code <subscription>@<instance>}, value = that processor instance's counters as JSON. */
    public static final String SUBSCRIPTION_STATS = "tb.subscription-stats";
    /** Records the processor could not process, with the reason in headers. */
    public static final String DEADLETTER = "tb.deadletter";
    /** Compacted: key = run id, value = the run's final ledger as JSON. */
    public static final String RUNS = "tb.runs";
    /** Prefix of the topics of replayed responses, one per run: {@code tb.responses.<run>}. */
    public static final String RESPONSES_PREFIX = "tb.responses.";
    /** Every capture topic, present and future: what the processor reads. */
    public static final Pattern CAPTURES = Pattern.compile(Pattern.quote(CAPTURE_PREFIX) + "[a-zA-Z0-9._-]+");

    // Kafka allows [a-zA-Z0-9._-] and 249 chars; keep ids shorter so prefixes still fit.
    private static final Pattern ID = Pattern.compile("[a-zA-Z0-9._-]{1,200}");

    private Topics() {
    }

    /** The capture topic of one source id, e.g. {@code tb.capture.web1}. */
    public static String capture(String source) {
        return CAPTURE_PREFIX + checkId("source", source);
    }

    /** The topic of one subscription, e.g. {@code tb.sub.team-a}. */
    public static String subscription(String name) {
        return SUBSCRIPTION_PREFIX + checkId("subscription name", name);
    }

    /** The topic of one run's replayed responses, e.g. {@code tb.responses.team-a.nightly}. */
    public static String responses(String run) {
        return RESPONSES_PREFIX + checkId("run id", run);
    }

    /** Returns the id when it can be part of a topic name, or throws with a message naming what is wrong. */
    public static String checkId(String what, String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException(what + " '" + id
                    + "' is not valid: use 1-200 characters from letters, digits, '.', '_' and '-'");
        }
        return id;
    }
}
