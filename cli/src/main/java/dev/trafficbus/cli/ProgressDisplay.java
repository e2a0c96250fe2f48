package dev.trafficbus.cli;

import java.io.PrintStream;

/**
 * A one-line progress display: redrawn in place on a terminal, silent otherwise (the caller prints a
 * summary line at the end instead). Callers throttle nothing: {@link #update} redraws at most 5 times a second.
 */
public final class ProgressDisplay {
    private static final long MIN_REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean enabled;
    private long lastDraw;
    private int lastWidth;

    /** Draws on stderr when it is a terminal and CI is not set. */
    public static ProgressDisplay onTerminal() {
        boolean tty = System.console() != null && System.getenv("CI") == null;
        return new ProgressDisplay(System.err, tty);
    }

    public ProgressDisplay(PrintStream out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
    }

    public boolean enabled() {
        return enabled;
    }

    /** Redraws the line when enough time has passed; {@code done} and {@code total} drive the bar (total ≤ 0: no bar). */
    public void update(double done, double total, String text) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < MIN_REDRAW_NANOS && lastDraw != 0) {
            return;
        }
        lastDraw = now;
        String line = total > 0 ? bar(Math.min(1.0, done / total)) + " " + text : text;
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < lastWidth; i++) {
            sb.append(' ');
        }
        lastWidth = line.length();
        out.print(sb);
        out.flush();
    }

    /** Clears the line so the summary that follows starts clean. */
    public void finish() {
        if (enabled && lastWidth > 0) {
            out.print("\r" + " ".repeat(lastWidth) + "\r");
            out.flush();
        }
    }

    private static String bar(double fraction) {
        int width = 30;
        int filled = (int) Math.round(fraction * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + String.format("%3.0f%%", fraction * 100);
    }

    /** Formats an ETA in seconds as m:ss or h:mm:ss. */
    public static String eta(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "--:--";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
                : String.format("%d:%02d", s / 60, s % 60);
    }
}
