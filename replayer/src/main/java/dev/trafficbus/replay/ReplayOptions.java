package dev.trafficbus.replay;

import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.replay.http.HttpRewriteRules;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.intake.ReplayWindow;
import dev.trafficbus.replay.middleware.MiddlewareCommand;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.replay.tls.TargetTls;

/**
 * The archive-replay features of a run, beyond {@link ReplayRequest}; {@link #defaults()} turns them all off.
 *
 * @param window                capture-time window to replay
 * @param rate                  cap on sessions or requests per second, or null
 * @param loops                 how many times the window (or the range to the end) is replayed
 * @param http                  HTTP request rewrites (empty: none)
 * @param responsesTopic        topic for request/response records, or null to publish none
 * @param run                   run id written into response records and reports
 * @param allowProductionTarget replay even when the target is one of the captured servers
 * @param timeline              collects per-second figures for the run report, or null
 * @param metrics               Prometheus endpoint to export the counters to, or null
 * @param tls                   TLS toward the target (either engine), or null for plain TCP
 * @param middleware            program every HTTP request goes through before it is sent, or null
 * @param admin                 the command's admin client, with which the run checks its topic, or null for the run
 *                              to open one of its own
 */
public record ReplayOptions(ReplayWindow window, ReplayRate rate, int loops, HttpRewriteRules http,
                            String responsesTopic, String run, boolean allowProductionTarget, RunTimeline timeline,
                            MetricsEndpoint metrics, TargetTls tls, MiddlewareCommand middleware, KafkaAdmin admin) {
    public ReplayOptions {
        if (loops < 1) {
            throw new IllegalArgumentException("loops must be >= 1");
        }
        window = window == null ? ReplayWindow.ALL : window;
        http = http == null ? HttpRewriteRules.none() : http;
    }

    /** No window, no rate cap, one pass, no HTTP handling, nothing published. */
    public static ReplayOptions defaults() {
        return new ReplayOptions(ReplayWindow.ALL, null, 1, HttpRewriteRules.none(), null, null, false, null, null, null,
                null, null);
    }

    /**
     * True when requests are read as HTTP to rewrite them or to record responses (status codes and answer times
     * reach the timeline through each session's conversation, without this).
     */
    public boolean httpAware() {
        return !http.isEmpty() || responsesTopic != null || middleware != null;
    }

    public ReplayOptions withWindow(ReplayWindow w) {
        return new ReplayOptions(w, rate, loops, http, responsesTopic, run, allowProductionTarget, timeline, metrics, tls,
                middleware, admin);
    }

    public ReplayOptions withRate(ReplayRate r) {
        return new ReplayOptions(window, r, loops, http, responsesTopic, run, allowProductionTarget, timeline, metrics, tls,
                middleware, admin);
    }

    public ReplayOptions withLoops(int n) {
        return new ReplayOptions(window, rate, n, http, responsesTopic, run, allowProductionTarget, timeline, metrics, tls,
                middleware, admin);
    }

    public ReplayOptions withHttp(HttpRewriteRules h) {
        return new ReplayOptions(window, rate, loops, h, responsesTopic, run, allowProductionTarget, timeline, metrics, tls,
                middleware, admin);
    }

    /** Publishes request/response records to {@code topic} under run id {@code runId}. */
    public ReplayOptions withResponses(String topic, String runId) {
        return new ReplayOptions(window, rate, loops, http, topic, runId, allowProductionTarget, timeline, metrics, tls,
                middleware, admin);
    }

    public ReplayOptions withAllowProductionTarget(boolean allow) {
        return new ReplayOptions(window, rate, loops, http, responsesTopic, run, allow, timeline, metrics, tls,
                middleware, admin);
    }

    public ReplayOptions withTimeline(RunTimeline t) {
        return new ReplayOptions(window, rate, loops, http, responsesTopic, run, allowProductionTarget, t, metrics, tls,
                middleware, admin);
    }

    /** Speaks TLS to the target; null for plain TCP. */
    public ReplayOptions withTls(TargetTls t) {
        return new ReplayOptions(window, rate, loops, http, responsesTopic, run, allowProductionTarget, timeline, metrics, t,
                middleware, admin);
    }

    public ReplayOptions withMetrics(MetricsEndpoint m) {
        return new ReplayOptions(window, rate, loops, http, responsesTopic, run, allowProductionTarget, timeline, m, tls,
                middleware, admin);
    }

    /** Sends every HTTP request through {@code m} (null: none). */
    public ReplayOptions withMiddleware(MiddlewareCommand m) {
        return new ReplayOptions(window, rate, loops, http, responsesTopic, run, allowProductionTarget, timeline, metrics,
                tls, m, admin);
    }

    /** Checks the topic with the command's admin client {@code a} instead of one of the run's own. */
    public ReplayOptions withAdmin(KafkaAdmin a) {
        return new ReplayOptions(window, rate, loops, http, responsesTopic, run, allowProductionTarget, timeline, metrics,
                tls, middleware, a);
    }
}
