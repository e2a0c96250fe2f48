package dev.trafficbus.replay;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;

/** Reads option durations written as "10s", "500ms", "2m" or a plain number of seconds. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            double amount;
            long nanosPerUnit;
            if (v.endsWith("ms")) {
                amount = Double.parseDouble(v.substring(0, v.length() - 2));
                nanosPerUnit = 1_000_000L;
            } else if (v.endsWith("s")) {
                amount = Double.parseDouble(v.substring(0, v.length() - 1));
                nanosPerUnit = 1_000_000_000L;
            } else if (v.endsWith("m")) {
                amount = Double.parseDouble(v.substring(0, v.length() - 1));
                nanosPerUnit = 60_000_000_000L;
            } else {
                amount = Double.parseDouble(v);
                nanosPerUnit = 1_000_000_000L;
            }
            if (!(amount > 0) || Double.isInfinite(amount)) {
                throw new CommandLine.TypeConversionException("'" + value + "' must be a positive duration");
            }
            return Duration.ofNanos((long) (amount * nanosPerUnit));
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 10s, 500ms or 2m");
        }
    }
}
