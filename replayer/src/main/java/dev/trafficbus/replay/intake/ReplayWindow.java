package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.UserInputException;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The capture-time window of a replay, half-open: sessions whose first packet was captured at or after
 * {@code from} and before {@code to} are replayed, each one whole (also its packets after {@code to}).
 *
 * @param from window start, or null for the group's committed offset (or the earliest)
 * @param to   window end, or null for no end
 */
public record ReplayWindow(Instant from, Instant to) {
    /** No window: everything from the committed (or earliest) offset on. */
    public static final ReplayWindow ALL = new ReplayWindow(null, null);

    public ReplayWindow {
        if (from != null && to != null && !to.isAfter(from)) {
            throw new UserInputException("--to " + to + " must be after --from " + from);
        }
    }

    /** Parses --from/--to values (either may be null): ISO-8601 instants such as 2026-11-21T14:00:00Z. */
    public static ReplayWindow parse(String from, String to) {
        return new ReplayWindow(instant("--from", from), instant("--to", to));
    }

    private static Instant instant(String option, String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String t = text.trim();
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(t).toInstant();
            } catch (DateTimeParseException e2) {
                throw new UserInputException(option + " '" + text + "' is not a time: use an ISO-8601 instant "
                        + "such as 2026-11-21T14:00:00Z (UTC) or 2026-11-21T15:00:00+01:00", e2);
            }
        }
    }

    /** True when a start or an end is set. */
    public boolean bounded() {
        return from != null || to != null;
    }

    /** Window start in epoch microseconds, or Long.MIN_VALUE. */
    public long fromMicros() {
        return from == null ? Long.MIN_VALUE : micros(from);
    }

    /** Window end in epoch microseconds, or Long.MAX_VALUE. */
    public long toMicros() {
        return to == null ? Long.MAX_VALUE : micros(to);
    }

    /** True when a session first captured at {@code tsMicros} belongs to the window. */
    public boolean contains(long tsMicros) {
        return tsMicros >= fromMicros() && tsMicros < toMicros();
    }

    private static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1000);
    }
}
