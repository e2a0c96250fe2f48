package dev.trafficbus.bus;

import java.util.regex.Pattern;

/** Names of the topics on the bus, and the rules for the ids that go into them. */
public final class Topics {
    /** Prefix of the raw capture topics, one per source: {@code tb.capture.<source>}. */
    public static final String CAPTURE_PREFIX = "tb.capture.";
    /** Prefix of the per-team subscription topics: {@code tb.sub.<name>}. */
    public static final String SUBSCRIPTION_PREFIX = "tb.sub.";

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

    /** Returns the id when it can be part of a topic name, or throws with a message naming what is wrong. */
    public static String checkId(String what, String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException(what + " '" + id
                    + "' is not valid: use 1-200 characters from letters, digits, '.', '_' and '-'");
        }
        return id;
    }
}
