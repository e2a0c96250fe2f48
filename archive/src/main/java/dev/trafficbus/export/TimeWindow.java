package dev.trafficbus.export;

import dev.trafficbus.cli.UserInputException;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * A capture-time window [from, to) in microseconds since the epoch; either end may be open. The end is exclusive so
 * consecutive windows (14:00-14:05, 14:05-14:10) export every packet exactly once.
 */
public record TimeWindow(long fromMicros, long toMicros) {
    /** No bound on either side. */
    public static final TimeWindow ALL = new TimeWindow(Long.MIN_VALUE, Long.MAX_VALUE);

    /** Parses the --from/--to texts (null = open end); a bad time or an empty window is a {@link UserInputException}. */
    public static TimeWindow parse(String from, String to) {
        long f = from == null ? Long.MIN_VALUE : micros("--from", from);
        long t = to == null ? Long.MAX_VALUE : micros("--to", to);
        if (f >= t) {
            throw new UserInputException("--from " + from + " is not before --to " + to + "; the window would be empty");
        }
        return new TimeWindow(f, t);
    }

    /** Microseconds since the epoch of an ISO-8601 time with a zone, e.g. 2026-11-21T14:00:00Z or ...+01:00, rounded up. */
    static long micros(String option, String text) {
        Instant instant;
        try {
            instant = OffsetDateTime.parse(text.trim(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw new UserInputException(option + " '" + text + "' is not an ISO-8601 time with a zone,"
                    + " e.g. 2026-11-21T14:00:00Z or 2026-11-21T15:00:00.250+01:00", e);
        }
        try {
            // Rounded up: capture times are whole microseconds, and the first one at or after a finer bound is
            // where both the inclusive start and the exclusive end fall.
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), (instant.getNano() + 999) / 1000);
        } catch (ArithmeticException e) {
            throw new UserInputException(option + " '" + text + "' is out of range", e);
        }
    }

    public boolean hasFrom() {
        return fromMicros != Long.MIN_VALUE;
    }

    public boolean hasTo() {
        return toMicros != Long.MAX_VALUE;
    }

    public boolean contains(long micros) {
        return micros >= fromMicros && micros < toMicros;
    }

    /** The first Kafka timestamp (ms) a record inside the window can have. */
    long fromMillis() {
        return Math.floorDiv(fromMicros, 1000);
    }

    /** The first Kafka timestamp (ms) from which no record can be inside the window. */
    long toMillisExclusive() {
        return -Math.floorDiv(-toMicros, 1000);
    }

    /** "2026-11-21T14:00:00Z to 2026-11-21T14:05:00Z", with "start"/"end" for open ends. */
    public String describe() {
        return (hasFrom() ? format(fromMicros) : "start") + " to " + (hasTo() ? format(toMicros) : "end");
    }

    private static String format(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L).toString();
    }
}
