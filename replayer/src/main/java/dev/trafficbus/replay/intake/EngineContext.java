package dev.trafficbus.replay.intake;

import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.http.HttpExchanges;
import dev.trafficbus.replay.http.ResponsePublisher;
import dev.trafficbus.replay.middleware.Middleware;
import dev.trafficbus.replay.report.RunTimeline;

/**
 * What the shared intake hands the engine of a run (socket or tcp): the settings, the counters, the pacing clock,
 * the offset ledger its sessions release their records to, and where response records go.
 *
 * @param responses  publisher of request/response records, or null when none are published
 * @param middleware the running --middleware program, or null
 */
public record EngineContext(ReplayRequest request, ReplayTuning tuning, ReplayOptions options, ReplayCounters counters,
                            ReplayClock clock, OffsetLedger ledger, ResponsePublisher responses,
                            Middleware middleware) {
    /** A context without middleware. */
    public EngineContext(ReplayRequest request, ReplayTuning tuning, ReplayOptions options, ReplayCounters counters,
                         ReplayClock clock, OffsetLedger ledger, ResponsePublisher responses) {
        this(request, tuning, options, counters, clock, ledger, responses, null);
    }

    /** Null unless a run report is made. */
    public RunTimeline timeline() {
        return options.timeline();
    }

    /** The HTTP side of a new session (rewrites, response records), or null when the run needs none. */
    public HttpExchanges newExchanges() {
        if (!options.httpAware()) {
            return null;
        }
        // Status codes and answer times reach the timeline through each session's conversation.
        return new HttpExchanges(options.http(), responses != null, middleware);
    }
}
