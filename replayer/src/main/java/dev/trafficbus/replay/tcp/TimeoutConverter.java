package dev.trafficbus.replay.tcp;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;

/** Reads the tcp engine's timeouts written as "10s", "500ms", "2m" or a plain number of seconds. */
public final class TimeoutConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        double amount;
        long nanosPerUnit;
        try {
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
        } catch (NumberFormatException e) {
            amount = Double.NaN;
            nanosPerUnit = 0;
        }
        if (!(amount > 0) || Double.isInfinite(amount)) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration: use e.g. 500ms, 10s or 2m");
        }
        return Duration.ofNanos((long) (amount * nanosPerUnit));
    }
}
