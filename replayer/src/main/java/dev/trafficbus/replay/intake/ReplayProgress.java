package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.ProgressDisplay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * Feeds the one-line progress display: sessions done, message rate, and with until-end the ETA. Reading
 * runs ahead of replaying, so the bar estimates all sessions as those seen so far divided by the share of
 * the topic's offsets read, and shows the share of that estimate done. Off a terminal (a service's log) it writes
 * one status line every {@link #STATUS_INTERVAL_NANOS} instead, so an operator sees a stalled replay in the log.
 */
public final class ReplayProgress {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayProgress.class);
    static final long STATUS_INTERVAL_NANOS = 10_000_000_000L;
    private final ProgressDisplay display;
    private final ReplayCounters counters;
    private final DoubleSupplier consumedFraction;
    private final long startNanos = System.nanoTime();
    private long lastNanos = startNanos;
    private long lastMessages;
    private double rate;
    private long lastStatusNanos = startNanos;

    public ReplayProgress(ProgressDisplay display, ReplayCounters counters, DoubleSupplier consumedFraction) {
        this.display = display;
        this.counters = counters;
        this.consumedFraction = consumedFraction;
    }

    public void update() {
        long now = System.nanoTime();
        if (!display.enabled()) {
            if (now - lastStatusNanos >= STATUS_INTERVAL_NANOS) {
                lastStatusNanos = now;
                LOG.info("status: sessions {} seen, {} done ({} failed), messages {} sent, {} answered, read {}%",
                        counters.sessionsSeen.sum(), counters.sessionsDone(), counters.sessionsFailed.sum(),
                        counters.messagesSent.sum(), counters.messagesAnswered.sum(),
                        Math.round(consumedFraction.getAsDouble() * 100));
            }
            return;
        }
        if (now - lastNanos >= 1_000_000_000L) {
            long sent = counters.messagesSent.sum();
            rate = (sent - lastMessages) * 1e9 / (now - lastNanos);
            lastMessages = sent;
            lastNanos = now;
        }
        long done = counters.sessionsDone();
        long seen = counters.sessionsSeen.sum();
        double read = consumedFraction.getAsDouble();
        // Sessions in the window (or to the end): those seen so far, scaled up by the share of the range read.
        long total = read > 0 ? Math.round(seen / Math.min(1.0, read)) : seen;
        String text = String.format(Locale.ROOT, "sessions %d/%s%d done (%d failed), %.0f msg/s", done,
                read > 0 && read < 1 ? "~" : "", total, counters.sessionsFailed.sum(), rate);
        if (read > 0 && seen > 0) {
            double share = Math.min(1.0, done / (seen / read));
            double elapsed = (now - startNanos) / 1e9;
            text += ", read " + Math.round(read * 100) + "%, ETA "
                    + ProgressDisplay.eta(share > 0 ? elapsed * (1 - share) / share : Double.NaN);
            display.update(share, 1, text);
        } else {
            display.update(0, 0, text);
        }
    }

    public void finish() {
        display.finish();
    }
}
