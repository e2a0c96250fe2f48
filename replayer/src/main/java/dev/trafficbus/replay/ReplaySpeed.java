package dev.trafficbus.replay;

import dev.trafficbus.cli.UserInputException;

/**
 * How fast captured time passes during a replay: {@code factor} 1 keeps the capture's timing, 2.5 makes it
 * 2.5 times faster, and {@link Double#POSITIVE_INFINITY} ("max") sends as fast as the target answers.
 */
public record ReplaySpeed(double factor) {
    /** As fast as the target answers. */
    public static final ReplaySpeed MAX = new ReplaySpeed(Double.POSITIVE_INFINITY);
    /** The capture's own timing. */
    public static final ReplaySpeed REALTIME = new ReplaySpeed(1);

    public ReplaySpeed {
        if (!(factor > 0)) {
            throw new IllegalArgumentException("speed factor must be > 0 (or +Infinity for max), got " + factor);
        }
    }

    /** Parses "1", "2.5", "0.5" or "max" (a trailing "x" is allowed); anything else is a {@link UserInputException}. */
    public static ReplaySpeed parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("max")) {
            return MAX;
        }
        if (t.endsWith("x")) {
            t = t.substring(0, t.length() - 1);
        }
        double f;
        try {
            f = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            f = Double.NaN;
        }
        if (!(f > 0) || Double.isInfinite(f)) {
            throw new UserInputException("speed '" + text + "' is not valid: use a positive number such as 1 or 2.5, or 'max'");
        }
        return new ReplaySpeed(f);
    }

    /** True for "max": no pacing at all. */
    public boolean isMax() {
        return Double.isInfinite(factor);
    }

    @Override
    public String toString() {
        return isMax() ? "max" : (factor == Math.rint(factor) ? Long.toString((long) factor) : Double.toString(factor));
    }
}
