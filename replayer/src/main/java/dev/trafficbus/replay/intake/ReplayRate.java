package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.UserInputException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cap on session starts or requests per second, shared by every session: each start (or request) takes
 * the next free slot of an evenly spaced schedule, so the cap holds over any interval without bursts.
 */
public final class ReplayRate {
    private static final Pattern FORMAT = Pattern.compile(
            "(\\d+(?:\\.\\d+)?)\\s*(sessions?|requests?|req|messages?)?\\s*/\\s*s(ec(ond)?)?");

    private final double perSecond;
    private final boolean requests;
    private final long intervalNanos;
    private long next;
    private boolean started;

    /** {@code perSecond} sessions (or requests when {@code requests}) per second. */
    public ReplayRate(double perSecond, boolean requests) {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("rate must be > 0, got " + perSecond);
        }
        this.perSecond = perSecond;
        this.requests = requests;
        this.intervalNanos = Math.max(1, (long) (1e9 / perSecond));
    }

    /** Parses "500/s", "500 sessions/s" or "200 requests/s"; anything else is a {@link UserInputException}. */
    public static ReplayRate parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = FORMAT.matcher(t);
        double n = 0;
        if (m.matches()) {
            n = Double.parseDouble(m.group(1));
        }
        if (!m.matches() || !(n > 0)) {
            throw new UserInputException("--rate '" + text + "' is not valid: use N/s (sessions per second), "
                    + "'N sessions/s' or 'N requests/s' with N > 0");
        }
        String unit = m.group(2);
        return new ReplayRate(n, unit != null && !unit.startsWith("session"));
    }

    /** True when requests (client messages) are capped, false for session starts. */
    public boolean capsRequests() {
        return requests;
    }

    /** Reserves the next slot; returns the {@link System#nanoTime} at which it may be used (any thread). */
    public synchronized long reserve(long nowNanos) {
        if (!started || next - nowNanos < 0) {
            started = true;
            next = nowNanos; // an idle period earns no burst
        }
        long at = next;
        next += intervalNanos;
        return at;
    }

    /** One session's place in the schedule: reserved on first ask, kept until taken (event-loop thread of the session). */
    public static final class Turn {
        private long due;

        /**
         * 0 when this session may go now (also when {@code rate} is null or caps the other kind: session starts
         * when {@code forRequests}, requests when not), else the {@link System#nanoTime} to wait for; the slot is
         * reserved on the first call and kept until {@link #taken()}.
         */
        public long waitFor(ReplayRate rate, boolean forRequests, long nowNanos) {
            if (rate == null || rate.capsRequests() != forRequests) {
                return 0;
            }
            if (due == 0) {
                due = rate.reserve(nowNanos) | 1; // never 0 once reserved
            }
            return due - nowNanos > 0 ? due : 0;
        }

        /** The slot was used: the next call reserves a new one. */
        public void taken() {
            due = 0;
        }
    }

    @Override
    public String toString() {
        String n = perSecond == Math.rint(perSecond) ? Long.toString((long) perSecond) : Double.toString(perSecond);
        return n + (requests ? " requests/s" : " sessions/s");
    }
}
