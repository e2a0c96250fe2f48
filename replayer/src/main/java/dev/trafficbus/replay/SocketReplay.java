package dev.trafficbus.replay;

import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The {@code socket} session engine: replays every captured session of a topic over ordinary TCP
 * connections to one target, pacing each message on the previous answer and the capture's timing.
 * Follows the topic live until {@link #stop()}, or with until-end stops after what the topic held at start.
 */
public final class SocketReplay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SocketReplay.class);
    private static final long WAIT_STEP_MILLIS = 20;
    private static final long INTERRUPT_GRACE_NANOS = 2_000_000_000L;

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private volatile boolean stopRequested;
    private volatile CaptureConsumer consumer;
    private boolean ran;

    /** A replay with {@link ReplayTuning#defaults()}. */
    public SocketReplay(ReplayRequest request) {
        this(request, ReplayTuning.defaults());
    }

    /** A replay with explicit limits and timeouts. */
    public SocketReplay(ReplayRequest request, ReplayTuning tuning) {
        this.request = request;
        this.tuning = tuning;
    }

    /** Blocks until the end (untilEnd) or until stop(); returns the counters. */
    public ReplaySummary run() {
        synchronized (this) {
            if (ran) {
                throw new IllegalStateException("a SocketReplay runs once");
            }
            ran = true;
        }
        validate();
        long t0 = System.nanoTime();
        int partitions = TopicCheck.partitions(request.consumerConfig(), request.topic(), tuning.brokerWait());
        log.info("replaying {} ({} partitions) to {} at speed {}, group {}{}", request.topic(), partitions,
                TargetAddress.show(request.target()), request.speed(), request.groupOrDefault(),
                request.untilEnd() ? ", until the end" : ", following the topic until stopped");
        ReplayCounters counters = new ReplayCounters();
        ReplayProgress progress;
        try (ReplayEngine engine = new ReplayEngine(request.target(), request.speed(), tuning, counters)) {
            CaptureConsumer c;
            try {
                c = new CaptureConsumer(request, tuning, engine, counters);
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
            } finally {
                c.close();
            }
            drain(engine, progress);
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

    /** Lets running sessions finish: without limit after until-end, within the drain timeout after a stop. */
    private void drain(ReplayEngine engine, ReplayProgress progress) {
        long deadline = 0;
        boolean bounded = false;
        while (engine.liveSessions() > 0) {
            long now = System.nanoTime();
            if (stopRequested && !bounded) {
                bounded = true;
                deadline = now + tuning.drainTimeout().toNanos();
            }
            if (bounded && now - deadline >= 0) {
                engine.interruptAll();
                long giveUp = now + INTERRUPT_GRACE_NANOS;
                while (engine.liveSessions() > 0 && System.nanoTime() - giveUp < 0) {
                    sleep();
                }
                return;
            }
            progress.update();
            sleep();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(WAIT_STEP_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void validate() {
        if (request.topic() == null || request.topic().isBlank()) {
            throw new UserInputException("no topic given; use --topic tb.capture.<source>");
        }
        if (request.target() == null) {
            throw new UserInputException("no target given; use --target HOST:PORT");
        }
        if (request.target().isUnresolved()) {
            throw new UserInputException("target host '" + request.target().getHostString() + "' cannot be resolved");
        }
        Object servers = request.consumerConfig() == null ? null
                : request.consumerConfig().get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG);
        if (servers == null || servers.toString().isBlank()) {
            throw new UserInputException("no Kafka address given; use --bootstrap-servers HOST:PORT");
        }
        if (request.speed() == null) {
            throw new UserInputException("no speed given; use --speed 1, 2.5 or max");
        }
    }
}
