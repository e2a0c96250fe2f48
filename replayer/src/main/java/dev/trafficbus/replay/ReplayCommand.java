package dev.trafficbus.replay;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.DurationConverter;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.replay.http.HttpRewriteRules;
import dev.trafficbus.replay.http.ResponsePublisher;
import dev.trafficbus.replay.middleware.MiddlewareCommand;
import dev.trafficbus.replay.intake.ReplayRate;
import dev.trafficbus.replay.intake.ReplayWindow;
import dev.trafficbus.replay.intake.TopicCheck;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.replay.socket.SocketReplay;
import dev.trafficbus.replay.tcp.TcpEngineOptions;
import dev.trafficbus.replay.tcp.TcpReplay;
import dev.trafficbus.replay.tls.TargetTls;
import dev.trafficbus.replay.tls.TlsOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** {@code trafficbus replay}: replays the captured sessions of a topic against a test server. */
@Command(name = "replay",
        header = "Replay the captured sessions of a topic against a test server.",
        mixinStandardHelpOptions = true, version = "trafficbus replay 0.1.0",
        description = "Replays every captured TCP session of a topic against a test server over ordinary "
                + "connections (socket engine) or as raw packets from fake client addresses (tcp engine), waiting "
                + "for each answer before the next message. Every option works with both engines. Follows the "
                + "topic until Ctrl-C/SIGTERM, or with --until-end / --to stops at the end. With --target "
                + "https://HOST:PORT each session is one TLS connection (SNI from its Host header; ALPN offers "
                + "h2 to HTTP/2 sessions, http/1.1 to the others). "
                + "Exit code 0: all replayed and answered; 1: a session failed or nothing was replayed; 2: bad input;"
                + " 3: sessions ended incomplete (capture gaps) or messages unanswered (no byte came back).")
public final class ReplayCommand implements Callable<Integer> {
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    @Option(names = "--topic", required = true, paramLabel = "TOPIC",
            description = "Topic to replay, e.g. tb.capture.web1 or tb.sub.team-a.")
    String topic;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT",
            description = "Test server that receives the replayed sessions; https://HOST:PORT speaks TLS to it (the tcp engine "
                    + "then needs intercept --with-payload).")
    String target;

    @Mixin
    TlsOptions tlsOptions = new TlsOptions();

    @Mixin
    KafkaClientOptions kafka = new KafkaClientOptions();

    @Mixin
    TcpEngineOptions tcp = new TcpEngineOptions();

    /** Settings of the responses topic (--capture-responses) if this run creates it. */
    @Mixin
    TopicOptions topicOptions = new TopicOptions();

    @Option(names = "--speed", defaultValue = "1", paramLabel = "FACTOR|max",
            description = "1 keeps the captured gaps from the first session on (the clock starts when the first session is due, not at start-up; following a topic live it keeps up with the capture), 2.5 is 2.5 times faster, max sends as fast as the target answers (default: ${DEFAULT-VALUE}).")
    String speed;

    @Option(names = "--from", paramLabel = "TIME",
            description = "Replay sessions captured from this instant on (ISO-8601, e.g. 2026-11-21T14:00:00Z); default: the group's committed offset, or the earliest.")
    String from;

    @Option(names = "--to", paramLabel = "TIME",
            description = "Replay sessions that started before this instant, each whole, then stop.")
    String to;

    @Option(names = "--rate", paramLabel = "N/s",
            description = "Cap on session starts per second (N/s, 'N sessions/s') or requests per second ('N requests/s').")
    String rate;

    @Option(names = "--loop", defaultValue = "1", paramLabel = "N",
            description = "Replay the window (or the topic up to its end) N times (default: ${DEFAULT-VALUE}).")
    int loops;

    @Option(names = "--group", paramLabel = "NAME",
            description = "Consumer group; replayers in one group share the topic's partitions (default: trafficbus-replay-<topic>).")
    String group;

    @Option(names = "--until-end",
            description = "Stop after replaying everything the topic held at start instead of following it.")
    boolean untilEnd;

    @Option(names = "--http-set-header", paramLabel = "'NAME: VALUE'",
            description = "Set this header on every HTTP request (repeatable).")
    List<String> httpSetHeaders = new ArrayList<>();

    @Option(names = "--http-remove-header", paramLabel = "NAME",
            description = "Remove this header from every HTTP request (repeatable).")
    List<String> httpRemoveHeaders = new ArrayList<>();

    @Option(names = "--http-rewrite-url", paramLabel = "REGEX=REPLACEMENT",
            description = "Rewrite HTTP request targets, e.g. '^/v1/(.*)=/v2/$1'.")
    String httpRewriteUrl;

    @Option(names = "--http-host", paramLabel = "HOST", description = "Replace the Host header of every HTTP request.")
    String httpHost;

    @Option(names = "--http-allow-url", paramLabel = "REGEX",
            description = "Replay only HTTP requests (HTTP/2 streams, gRPC calls: /package.Service/Method) whose captured "
                    + "target matches; the others are counted as request-filtered (repeatable: any).")
    List<String> httpAllowUrls = new ArrayList<>();

    @Option(names = "--http-deny-url", paramLabel = "REGEX",
            description = "Leave out HTTP requests whose captured target matches, counted as request-filtered (repeatable).")
    List<String> httpDenyUrls = new ArrayList<>();

    @Option(names = "--http-allow-method", paramLabel = "METHOD",
            description = "Replay only HTTP requests of this method, e.g. GET; the others are counted as request-filtered "
                    + "(repeatable: any).")
    List<String> httpAllowMethods = new ArrayList<>();

    @Option(names = "--middleware", paramLabel = "'CMD ARGS'",
            description = "Send every HTTP request through this program first (GoReplay's middleware protocol: one hex line "
                    + "per message on its stdin, the possibly changed request back on its stdout; a request not returned is "
                    + "not sent). Run by sh -c, started once; its stderr goes to the log; if it exits, the replay stops.")
    String middleware;

    @Option(names = "--middleware-timeout", defaultValue = "1s", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "Longest wait for the middleware to return a request; counted as middleware-timeout and not sent "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration middlewareTimeout;

    @Option(names = "--middleware-responses",
            description = "Also give the middleware each request's production answer (type 2, from the capture) and the "
                    + "test server's answer (type 3), under the request's id, as GoReplay's track-response options do "
                    + "(tcp engine: the test server's answers need intercept --with-payload).")
    boolean middlewareResponses;

    @Option(names = "--capture-responses",
            description = "Publish every replayed HTTP request with the target's and the production response to the responses topic "
                    + "(tcp engine: intercept must relay payloads, --with-payload).")
    boolean captureResponses;

    @Option(names = "--responses-topic", paramLabel = "TOPIC",
            description = "Topic for --capture-responses (default: tb.responses.<run>).")
    String responsesTopic;

    @Option(names = "--run", paramLabel = "NAME",
            description = "Run id for reports and response records (default: <topic>-<UTC yyyyMMddTHHmmss>).")
    String run;

    @Option(names = "--allow-production-target",
            description = "Replay even when --target is one of the captured servers itself.")
    boolean allowProductionTarget;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Write the run report: JSON, or a self-contained HTML page (plus the JSON beside it) when FILE ends in .html.")
    Path report;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus metrics on /metrics and liveness on /health at this port (0: any free port).")
    Integer metricsPort;

    @Option(names = "--response-timeout", defaultValue = "10s", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "Longest wait for one answer before the next message is sent; counted as response-timeout (default: ${DEFAULT-VALUE}).")
    Duration responseTimeout;

    @Option(names = "--quiet-period", defaultValue = "50ms", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "Only for protocols the replay cannot read (HTTP/1.x and Redis answers end by their framing): "
                    + "an answer of another size than captured is complete after this much silence; counted as "
                    + "answers judged by silence (default: ${DEFAULT-VALUE}).")
    Duration quietPeriod;

    @Option(names = "--connect-timeout", defaultValue = "5s", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "Longest wait for a connection to the target (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--max-connections", defaultValue = "2000", paramLabel = "N",
            description = "Connections open to the target at once; further sessions wait their turn (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--max-buffered-mb", defaultValue = "256", paramLabel = "MB",
            description = "Captured bytes waiting to be sent before reading pauses; reading also pauses while as many sessions wait for a connection as --max-connections allows (default: ${DEFAULT-VALUE}).")
    long maxBufferedMb;

    @Option(names = "--io-threads", defaultValue = "0", paramLabel = "N",
            description = "Threads that run the connections to the target (default: one per core).")
    int ioThreads;

    @Option(names = "--drain-timeout", defaultValue = "10s", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "After Ctrl-C/SIGTERM, how long running sessions may take to finish (default: ${DEFAULT-VALUE}).")
    Duration drainTimeout;

    @Override
    public Integer call() throws InterruptedException {
        if (middlewareResponses && middleware == null) {
            throw new UserInputException("--middleware-responses needs --middleware 'CMD ARGS' to give the answers to");
        }
        tcp.validate();
        TargetTls tls = tlsOptions.settings(target);
        ReplaySpeed replaySpeed = ReplaySpeed.parse(speed);
        InetSocketAddress targetAddress = TargetAddress.parse(target);
        if (maxConnections < 1) {
            throw new UserInputException("--max-connections must be at least 1, got " + maxConnections);
        }
        if (ioThreads < 0) {
            throw new UserInputException("--io-threads must be 0 (one per core) or more, got " + ioThreads);
        }
        if (maxBufferedMb < 1) {
            throw new UserInputException("--max-buffered-mb must be at least 1, got " + maxBufferedMb);
        }
        ReplayWindow window = ReplayWindow.parse(from, to);
        if (loops < 1) {
            throw new UserInputException("--loop must be at least 1, got " + loops);
        }
        if (loops > 1 && !untilEnd && window.to() == null) {
            throw new UserInputException("--loop " + loops + " needs an end to repeat: add --to TIME or --until-end");
        }
        if (responsesTopic != null && !captureResponses) {
            throw new UserInputException("--responses-topic needs --capture-responses");
        }
        String runId = runId();
        String respTopic = captureResponses ? (responsesTopic != null ? responsesTopic : Topics.RESPONSES_PREFIX + runId) : null;
        if (respTopic != null && !TOPIC_NAME.matcher(respTopic).matches()) {
            throw new UserInputException("responses topic '" + respTopic + "' is not a valid topic name; "
                    + "use --run or --responses-topic with letters, digits, '.', '_' and '-'");
        }
        RunReportWriter.checkPath(report);
        Properties clientConfig = kafka.toProperties();
        ReplayOptions options = ReplayOptions.defaults().withWindow(window)
                .withRate(rate == null ? null : ReplayRate.parse(rate)).withLoops(loops).withHttp(httpRules())
                .withResponses(respTopic, runId).withAllowProductionTarget(allowProductionTarget)
                .withTimeline(report == null ? null : new RunTimeline()).withTls(tls)
                .withMiddleware(middleware == null ? null : new MiddlewareCommand(middleware, middlewareTimeout, middlewareResponses));
        TlsOptions.check(tls, connectTimeout);
        TargetAddress.checkReachable(targetAddress, (int) Math.min(connectTimeout.toMillis(), Integer.MAX_VALUE));
        ReplayRequest request = new ReplayRequest(topic, clientConfig, targetAddress, replaySpeed, group,
                untilEnd || window.to() != null, true);
        ReplayTuning tuning = ReplayTuning.defaults().withResponseTimeout(responseTimeout).withQuietPeriod(quietPeriod)
                .withConnectTimeout(connectTimeout).withMaxConnections(maxConnections)
                .withMaxBufferedBytes(maxBufferedMb << 20).withDrainTimeout(drainTimeout).withIoThreads(ioThreads);

        // One admin client for the run's topic checks and the run record: each client costs its start-up (its
        // classes, metrics and a thread) and a connection to the brokers.
        try (KafkaAdmin admin = KafkaAdmin.connect(clientConfig, tuning.brokerWait())) {
            if (respTopic != null) {
                // The replayed topic first: a typo must not leave a responses topic behind.
                TopicCheck.partitions(admin, topic);
                ResponsePublisher.createTopic(admin, respTopic, topicOptions.spec(respTopic, Map.of()));
            }
            options = options.withAdmin(admin);
            try (MetricsEndpoint metrics = metricsPort == null ? null : new MetricsEndpoint("replay").serve(metricsPort)) {
                if (metrics != null) {
                    options = options.withMetrics(metrics);
                }
                return replay(runId, request, tuning, options);
            }
        }
    }

    /** The engine a run uses: socket or tcp, both behind the same intake. */
    private interface Engine {
        ReplaySummary run();

        void stop();

        Map<String, Object> ledger();
    }

    private Engine engine(ReplayRequest request, ReplayTuning tuning, ReplayOptions options) {
        if (tcp.tcpEngine()) {
            TcpReplay r = new TcpReplay(request, tuning, options, tcp);
            return new Engine() {
                public ReplaySummary run() {
                    return r.run();
                }

                public void stop() {
                    r.stop();
                }

                public Map<String, Object> ledger() {
                    return r.ledger();
                }
            };
        }
        SocketReplay r = new SocketReplay(request, tuning, options);
        return new Engine() {
            public ReplaySummary run() {
                return r.run();
            }

            public void stop() {
                r.stop();
            }

            public Map<String, Object> ledger() {
                return r.ledger();
            }
        };
    }

    private int replay(String runId, ReplayRequest request, ReplayTuning tuning, ReplayOptions options) {
        Engine replay = engine(request, tuning, options);
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            replay.stop();
            try {
                reported.await(drainTimeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-replay-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            ReplaySummary summary = replay.run();
            System.out.println(summary.summaryLine());
            System.out.println("run " + runId + (options.responsesTopic() != null
                    ? "; responses in " + options.responsesTopic() : ""));
            System.out.flush();
            Map<String, Object> doc = RunReportWriter.document(runId, request, options, summary, replay.ledger(),
                    options.timeline());
            RunReportWriter.publishRun(options.admin(), request.consumerConfig(), runId, doc);
            if (report != null) {
                RunReportWriter.write(report, doc);
            }
            if (summary.incompleteness() != null) {
                System.err.println("trafficbus replay: " + summary.incompleteness());
            }
            return summary.exitCode();
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down (Ctrl-C): the hook is running and sees the latch
            }
        }
    }

    private String runId() {
        if (run != null) {
            if (!TOPIC_NAME.matcher(run).matches()) {
                throw new UserInputException("--run '" + run + "' may only hold letters, digits, '.', '_' and '-'");
            }
            return run;
        }
        return topic + "-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").format(ZonedDateTime.now(ZoneOffset.UTC));
    }

    private HttpRewriteRules httpRules() {
        HttpRewriteRules rules = HttpRewriteRules.none();
        httpSetHeaders.forEach(rules::setHeader);
        httpRemoveHeaders.forEach(rules::removeHeader);
        if (httpRewriteUrl != null) {
            rules.rewriteUrl(httpRewriteUrl);
        }
        if (httpHost != null) {
            rules.host(httpHost);
        }
        httpAllowUrls.forEach(rules::allowUrl);
        httpDenyUrls.forEach(rules::denyUrl);
        httpAllowMethods.forEach(rules::allowMethod);
        return rules;
    }
}
