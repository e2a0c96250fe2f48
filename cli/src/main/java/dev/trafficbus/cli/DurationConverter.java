package dev.trafficbus.cli;

import picocli.CommandLine;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an option's duration written as a number with ms, s, m, h or d ("500ms", "10s", "1.5m", "2h", "7d"); a
 * bare number is seconds. Zero is allowed (options use it for "none" or "at once"); {@link Positive} refuses it.
 */
public class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    // A strict grammar rather than Double.parseDouble, which would also take "5w", "1e3", "NaN" or "0x1p3".
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(ms|s|m|h|d)?", Pattern.CASE_INSENSITIVE);
    private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(Long.MAX_VALUE);

    @Override
    public Duration convert(String value) {
        Matcher m = DURATION.matcher(value == null ? "" : value.trim());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration; use e.g. 10s, 500ms, 2m or 1h");
        }
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        long nanosPerUnit = switch (unit) {
            case "ms" -> 1_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            case "d" -> 86_400_000_000_000L;
            default -> 1_000_000_000L;
        };
        BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit));
        if (nanos.compareTo(MAX_NANOS) > 0) {
            throw new CommandLine.TypeConversionException("'" + value + "' is too long a duration; at most 292 years");
        }
        Duration d = Duration.ofNanos(nanos.longValue());
        check(value, d);
        return d;
    }

    /** Hook for stricter variants: throws a {@link CommandLine.TypeConversionException} naming {@code value}. */
    void check(String value, Duration parsed) {
    }

    /** Like {@link DurationConverter} but refuses zero: for timeouts, where 0 would mean "wait forever" or "fail at once". */
    public static final class Positive extends DurationConverter {
        @Override
        void check(String value, Duration parsed) {
            if (parsed.isZero()) {
                throw new CommandLine.TypeConversionException("'" + value + "' must be a positive duration, e.g. 10s, 500ms or 2m");
            }
        }
    }

    /**
     * A topic's retention: a positive duration ({@code 7d}, {@code 12h}), or {@code -1} (also {@code forever}) for
     * records kept until deleted by hand; {@link #FOREVER} stands for the latter.
     */
    public static final class Retention extends DurationConverter {
        /** Kept forever (retention.ms=-1). */
        public static final Duration FOREVER = Duration.ofMillis(-1);

        @Override
        public Duration convert(String value) {
            String v = value == null ? "" : value.trim();
            if (v.equals("-1") || v.equalsIgnoreCase("forever")) {
                return FOREVER;
            }
            Duration d = super.convert(v);
            if (d.toMillis() < 1) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a retention; use e.g. 7d, 12h,"
                        + " or -1 to keep records forever");
            }
            return d;
        }

        /** retention.ms of a topic as users write it: {@code 7d}, {@code 36h}, {@code forever}. */
        public static String format(long retentionMs) {
            return retentionMs < 0 ? "forever" : DurationConverter.format(Duration.ofMillis(retentionMs));
        }
    }

    /** The duration in the form users write it: {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}, {@code 7d}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms != 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0 && ms != 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms != 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
