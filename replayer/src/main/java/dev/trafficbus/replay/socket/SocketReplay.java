package dev.trafficbus.replay.socket;

import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.intake.ReplayRun;

import java.util.Map;

/**
 * The {@code socket} session engine: replays every captured session of a topic over ordinary TCP
 * connections to one target, pacing each message on the previous answer and the capture's timing.
 * Follows the topic live until {@link #stop()}, or with until-end stops after what the topic held at start.
 */
public final class SocketReplay implements AutoCloseable {
    private final ReplayRun run;

    /** A replay with {@link ReplayTuning#defaults()}. */
    public SocketReplay(ReplayRequest request) {
        this(request, ReplayTuning.defaults());
    }

    /** A replay with explicit limits and timeouts. */
    public SocketReplay(ReplayRequest request, ReplayTuning tuning) {
        this(request, tuning, ReplayOptions.defaults());
    }

    /** A replay with archive features: window, rate, loops, HTTP rewrites, response records, report timeline. */
    public SocketReplay(ReplayRequest request, ReplayTuning tuning, ReplayOptions options) {
        this.run = new ReplayRun(request, tuning, options, "socket");
    }

    /**
     * The loss ledger after {@link #run()}: sessions captured → in window → replayed → answered, with the
     * reason for every difference, and the response records published.
     */
    public Map<String, Object> ledger() {
        return run.ledger();
    }

    /** Blocks until the end (untilEnd) or until stop(); returns the counters. */
    public ReplaySummary run() {
        return run.run(ReplayEngine::new);
    }

    /** Asks run() to finish gracefully (called from a shutdown hook or another thread). */
    public void stop() {
        run.stop();
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }
}
