package dev.trafficbus.replay.socket;

import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.http.ResponsePublisher;
import dev.trafficbus.replay.intake.CaptureConsumer;
import dev.trafficbus.replay.intake.OffsetLedger;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.intake.ReplayProgress;
import dev.trafficbus.replay.intake.SessionDrain;
import dev.trafficbus.replay.intake.TopicCheck;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code socket} session engine: replays every captured session of a topic over ordinary TCP
 * connections to one target, pacing each message on the previous answer and the capture's timing.
 * Follows the topic live until {@link #stop()}, or with until-end stops after what the topic held at start.
 */
public final class SocketReplay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SocketReplay.class);

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private final ReplayOptions options;
    private final ReplayCounters counters = new ReplayCounters();
    private volatile long responsesPublished;
    private volatile long responsesFailed;
    private volatile boolean stopRequested;
    private volatile CaptureConsumer consumer;
    private boolean ran;

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
        this.request = request;
        this.tuning = tuning;
        this.options = options;
    }

    /**
     * The loss ledger after {@link #run()}: sessions captured → in window → replayed → answered, with the
     * reason for every difference, and the response records published.
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
        return l;
    }

    /** Blocks until the end (untilEnd) or until stop(); returns the counters. */
    public ReplaySummary run() {
        synchronized (this) {
            if (ran) {
                throw new IllegalStateException("a SocketReplay runs once");
            }
            ran = true;
        }
        request.check();
        long t0 = System.nanoTime();
        int partitions = TopicCheck.partitions(request.consumerConfig(), request.topic(), tuning.brokerWait());
        log.info("replaying {} ({} partitions) to {} at speed {}, group {}{}", request.topic(), partitions,
                TargetAddress.show(request.target()), request.speed(), request.groupOrDefault(),
                request.untilEnd() ? ", until the end" : ", following the topic until stopped");
        counters.attach(options.timeline(), options.metrics());
        ReplayProgress progress;
        ResponsePublisher responses = options.responsesTopic() == null ? null
                : new ResponsePublisher(request.consumerConfig(), options.responsesTopic(), options.run());
        try (ReplayEngine engine = new ReplayEngine(request.target(), request.speed(), tuning, counters, options,
                new OffsetLedger(), responses)) {
            CaptureConsumer c;
            try {
                c = new CaptureConsumer(request, options, tuning, engine, counters);
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
        } finally {
            if (responses != null) {
                responses.close();
                responsesPublished = responses.published.sum();
                responsesFailed = responses.failed.sum();
                counters.problem("responses-publish-failed", responsesFailed);
            }
        }
        progress.finish();
        return counters.snapshot((System.nanoTime() - t0) / 1e9);
    }

    /** Asks run() to finish gracefully (called from a shutdown hook or another thread). */
    public void stop() {
        stopRequested = true;
        CaptureConsumer c = consumer;
        if (c != null) {
            c.stop();
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

}
