package dev.trafficbus.capture;

import dev.trafficbus.cli.UserInputException;

import java.lang.management.ManagementFactory;

/**
 * {@code --cpu-budget}: samples this process's CPU time and decides, once per sample, whether the forwarder is
 * over its budget; the capture thread only reads that decision ({@link #over}), so the per-packet cost is one
 * volatile read. The usage is that of the last second (four samples), as a fraction of one core, so a spike of
 * a few milliseconds (a compilation, a collection) does not shed; over the budget new sessions are shed
 * ({@link SessionShedder}) until the last second comes in at or under it again.
 */
final class CpuBudget {
    /** How often the usage is sampled and the decision taken. */
    static final long SAMPLE_MILLIS = 250;

    private final double budget;
    private final com.sun.management.OperatingSystemMXBean os;
    private volatile boolean over;
    private volatile double usage;
    private static final int WINDOW = 4; // samples: the usage is over the last second
    private final long[] cpuNanos = new long[WINDOW];
    private final long[] wallNanos = new long[WINDOW];
    private int samples;

    /** {@code budget} is a fraction of one core (0.05 = 5%); 0 switches the budget off. */
    CpuBudget(double budget) {
        this.budget = budget;
        this.os = ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);
    }

    /** Parses {@code --cpu-budget}: a percentage of one core, e.g. {@code 5%} or {@code 150%}; 0 or off for none. */
    static double parse(String text) {
        String s = text == null ? "" : text.strip();
        if (s.equalsIgnoreCase("off") || s.equals("0") || s.equals("0%")) {
            return 0;
        }
        if (s.endsWith("%")) {
            try {
                double percent = Double.parseDouble(s.substring(0, s.length() - 1).strip());
                if (percent > 0 && percent <= 6400) {
                    return percent / 100;
                }
            } catch (NumberFormatException e) {
                // falls through to the error
            }
        }
        throw new UserInputException("--cpu-budget " + text + " is not a share of one core; use e.g. 5% (0.1%-6400%),"
                + " or off");
    }

    boolean enabled() {
        return budget > 0;
    }

    /** The budget as a fraction of one core; 0 when off. */
    double budget() {
        return budget;
    }

    /** The process's CPU use in the last sample period, as a fraction of one core. */
    double usage() {
        return usage;
    }

    /** True while the last sample period used more than the budget: new sessions are not started. */
    boolean over() {
        return over;
    }

    /** Takes a sample (the timer thread, every {@link #SAMPLE_MILLIS}). */
    void sample() {
        long cpu = os.getProcessCpuTime();
        long wall = System.nanoTime();
        if (cpu < 0) {
            return; // not measurable here: never shed
        }
        int i = samples % WINDOW;
        if (samples >= WINDOW && wall > wallNanos[i]) {
            double used = (double) (cpu - cpuNanos[i]) / (wall - wallNanos[i]);
            usage = used;
            over = budget > 0 && used > budget;
        }
        cpuNanos[i] = cpu;
        wallNanos[i] = wall;
        samples++;
    }
}
