package dev.trafficbus.capture;

import dev.trafficbus.cli.UserInputException;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations given on the command line: a number with ms, s, m or h; a bare number is seconds. */
final class TimeSpan {
    private static final Pattern SPAN = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

    private TimeSpan() {
    }

    /** The duration in {@code text}, e.g. "10s", "500ms", "2m"; a user error naming {@code option} otherwise. */
    static Duration parse(String option, String text) {
        Matcher m = SPAN.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new UserInputException(option + " '" + text + "' is not a duration; use e.g. 10s, 500ms or 1m");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        switch (unit) {
            case "ms": return Duration.ofMillis(n);
            case "m": return Duration.ofMinutes(n);
            case "h": return Duration.ofHours(n);
            default: return Duration.ofSeconds(n);
        }
    }
}
