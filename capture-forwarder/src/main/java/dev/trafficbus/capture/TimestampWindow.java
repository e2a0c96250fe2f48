package dev.trafficbus.capture;

import dev.trafficbus.cli.TopicState;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The record times a topic accepts: the broker refuses a record whose time is more than
 * {@code message.timestamp.before.max.ms} before its clock or {@code message.timestamp.after.max.ms} after it
 * (InvalidTimestampException), and a refused record takes the other records of its batch with it. The forwarder
 * checks every packet against this window before batching it and counts the misfits as
 * {@link SkipReason#TIMESTAMP_OUT_OF_RANGE}.
 */
public record TimestampWindow(long beforeMaxMs, long afterMaxMs) {
    /** Kafka 4's broker defaults: any age, at most one hour ahead. */
    public static final TimestampWindow BROKER_DEFAULTS = new TimestampWindow(Long.MAX_VALUE, 3_600_000L);
    /** A topic stamped with the broker's append time takes any producer time. */
    public static final TimestampWindow ANY = new TimestampWindow(Long.MAX_VALUE, Long.MAX_VALUE);
    /**
     * A record is checked when its packet is read but appended up to a batch window and a linger later; this much
     * of a bounded age is kept as margin, so a packet accepted here is not refused for having aged on the way.
     */
    static final long AGE_MARGIN_MS = 60_000L;

    /** The window of a described topic; the broker's defaults when its configs may not be read. */
    public static TimestampWindow of(TopicState topic) {
        return topic.config() == null ? BROKER_DEFAULTS : of(topic.config());
    }

    /** The window of a topic's described configuration (its effective values, broker defaults included). */
    public static TimestampWindow of(Config config) {
        ConfigEntry type = config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
        if (type != null && "LogAppendTime".equals(type.value())) {
            return ANY;
        }
        return new TimestampWindow(
                millis(config.get(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG), BROKER_DEFAULTS.beforeMaxMs),
                millis(config.get(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG), BROKER_DEFAULTS.afterMaxMs));
    }

    /** True when a record of time {@code micros} (since 1970) is accepted by a broker whose clock reads {@code nowMs}. */
    public boolean accepts(long micros, long nowMs) {
        long ms = Math.floorDiv(micros, 1000L);
        if (ms > nowMs && ms - nowMs > afterMaxMs) {
            return false;
        }
        long oldest = beforeMaxMs == Long.MAX_VALUE ? Long.MIN_VALUE : nowMs - beforeMaxMs + AGE_MARGIN_MS;
        return ms >= oldest;
    }

    private static long millis(ConfigEntry entry, long fallback) {
        if (entry == null || entry.value() == null) {
            return fallback;
        }
        try {
            return Math.max(0, Long.parseLong(entry.value().trim()));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
