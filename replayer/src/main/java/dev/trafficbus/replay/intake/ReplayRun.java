package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.http.ResponsePublisher;
import dev.trafficbus.replay.middleware.Middleware;
import dev.trafficbus.replay.middleware.MiddlewareCommand;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * One replay run, the same for every engine: checks the topic, reads it with the {@link CaptureConsumer}
 * (partition plan, window, loops, at-least-once commits), feeds the engine, shows progress and the status line,
 * exports the counters, drains, commits, and keeps the loss ledger. Follows the topic live until {@link #stop()},
 * or with until-end stops after what the topic held at start.
 */
public final class ReplayRun {
    private static final Logger log = LoggerFactory.getLogger(ReplayRun.class);

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private final ReplayOptions options;
    private final String engineName;
    private final ReplayCounters counters = new ReplayCounters();
    private volatile long responsesPublished;
    private volatile long responsesFailed;
    private volatile boolean stopRequested;
    private volatile CaptureConsumer consumer;
    private Map<String, Object> engineFigures = Map.of();
    private boolean ran;

    /** A run of the engine called {@code engineName} ({@code socket}, {@code tcp}) in reports. */
    public ReplayRun(ReplayRequest request, ReplayTuning tuning, ReplayOptions options, String engineName) {
        this.request = request;
        this.tuning = tuning;
        this.options = options;
        this.engineName = engineName;
    }

    /** True once {@link #stop()} was called. */
    public boolean stopRequested() {
        return stopRequested;
    }

    /**
     * The loss ledger after {@link #run}: sessions captured → in window → replayed → answered, with the
     * reason for every difference, the response records published, and the engine's own figures.
     */
    public Map<String, Object> ledger() {
        Map<String, Object> l = counters.ledger();
        if (options.responsesTopic() != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("topic", options.responsesTopic());
            r.put("published", responsesPublished);
            r.put("failed", responsesFailed);
            l.put("responseRecords", r);
        }
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", engineName);
        e.putAll(engineFigures);
        l.put("engine", e);
        return l;
    }

    /** Blocks until the end (untilEnd) or until stop(); returns the counters. {@code engines} makes the engine. */
    public ReplaySummary run(Function<EngineContext, Engine> engines) {
        synchronized (this) {
            if (ran) {
                throw new IllegalStateException("a replay runs once");
            }
            ran = true;
        }
        request.check();
        long t0 = System.nanoTime();
        int partitions;
        ResponsePublisher responses = null;
        KafkaAdmin own = options.admin() == null ? KafkaAdmin.connect(request.consumerConfig(), tuning.brokerWait()) : null;
        try {
            KafkaAdmin admin = own != null ? own : options.admin();
            partitions = TopicCheck.partitions(admin, request.topic());
            if (options.responsesTopic() != null) {
                responses = new ResponsePublisher(admin, request.consumerConfig(), options.responsesTopic(), options.run());
            }
        } finally {
            if (own != null) {
                own.close();
            }
        }
        counters.attach(options.timeline(), options.metrics());
        ReplayProgress progress;
        Middleware middleware = startMiddleware(options.middleware());
        EngineContext ctx = new EngineContext(request, tuning, options, counters, new ReplayClock(request.speed()),
                new OffsetLedger(), responses, middleware);
        try (middleware; Engine engine = engines.apply(ctx)) {
            log.info("replaying {} ({} partitions) to {} with the {} engine at speed {}, group {}{}", request.topic(),
                    partitions, TargetAddress.show(request.target()), engineName, request.speed(),
                    request.groupOrDefault(), request.untilEnd() ? ", until the end" : ", following the topic until stopped");
            CaptureConsumer c;
            try {
                c = new CaptureConsumer(ctx, engine);
            } catch (KafkaException e) {
                throw new UserInputException("cannot create a Kafka consumer: " + e.getMessage(), e);
            }
            ProgressDisplay display = request.showProgress() ? ProgressDisplay.onTerminal()
                    : new ProgressDisplay(new PrintStream(OutputStream.nullOutputStream()), false);
            progress = new ReplayProgress(display, counters, c::consumedFraction);
            consumer = c;
            try {
                if (!stopRequested) {
                    c.run(progress::update);
                }
                SessionDrain.drain(engine, () -> stopRequested, tuning.drainTimeout(), now -> {
                    progress.update();
                    c.commitNowAndThen(now);
                });
                c.commit(); // after the drain: only finished sessions move the committed offsets
            } finally {
                c.close();
            }
            engine.drained();
            engineFigures = engine.figures();
        } finally {
            if (responses != null) {
                responses.close();
                responsesPublished = responses.published.sum();
                responsesFailed = responses.failed.sum();
                counters.problem(ReplayProblem.RESPONSES_PUBLISH_FAILED, responsesFailed);
            }
        }
        progress.finish();
        return counters.snapshot((System.nanoTime() - t0) / 1e9);
    }

    /** The running program of {@code m}, or null; its exit stops the run. */
    private Middleware startMiddleware(MiddlewareCommand m) {
        if (m == null) {
            return null;
        }
        try {
            return Middleware.start(m, counters, this::stop);
        } catch (IOException e) {
            throw new UserInputException("--middleware '" + m.command() + "' cannot be started: " + e.getMessage(), e);
        }
    }

    /** Asks run() to finish gracefully (called from a shutdown hook or another thread). */
    public void stop() {
        stopRequested = true;
        CaptureConsumer c = consumer;
        if (c != null) {
            c.stop();
        }
    }
}
