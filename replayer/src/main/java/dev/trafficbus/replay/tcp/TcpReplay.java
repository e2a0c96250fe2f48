package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.intercept.frame.Route;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.intake.SessionDrain;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The {@code tcp} session engine (tcpcopy-style): replays every captured session of a topic as raw IP packets
 * from fake client addresses; intercept relays the test server's answers. Same shape as the socket engine:
 * follows the topic until {@link #stop()}, or with until-end stops after what the topic held at start.
 */
public final class TcpReplay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpReplay.class);
    private static final Duration INTERCEPT_WAIT = Duration.ofSeconds(10);

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private final TcpEngineOptions tcp;
    private volatile boolean stopRequested;
    private volatile TcpCaptureFeed feed;
    private boolean ran;

    /** A tcp-engine replay; the options are validated by {@link #run()}. */
    public TcpReplay(ReplayRequest request, ReplayTuning tuning, TcpEngineOptions tcp) {
        this.request = request;
        this.tuning = tuning;
        this.tcp = tcp;
    }

    /** Runs a replay until the end (untilEnd) or until {@code stop} answers true (polled); returns the counters. */
    public static ReplaySummary run(ReplayRequest request, ReplayTuning tuning, TcpEngineOptions tcp, BooleanSupplier stop) {
        TcpReplay r = new TcpReplay(request, tuning, tcp);
        Thread watcher = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                if (stop.getAsBoolean()) {
                    r.stop();
                    return;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "trafficbus-tcp-stop-watch");
        watcher.setDaemon(true);
        watcher.start();
        try {
            return r.run();
        } finally {
            watcher.interrupt();
        }
    }

    /** Blocks until the end (untilEnd) or until stop(); returns the counters. */
    public ReplaySummary run() {
        synchronized (this) {
            if (ran) {
                throw new IllegalStateException("a TcpReplay runs once");
            }
            ran = true;
        }
        validate();
        long t0 = System.nanoTime();
        ClientRange range = tcp.clientRange();
        int instance = tcp.instanceOrDefault();
        TcpCounters counters = new TcpCounters();
        ClientEndpoints endpoints = new ClientEndpoints(range, instance, quarantineNanos());
        Route route = new Route(range.network(), range.prefixLength(), ClientEndpoints.firstPort(instance),
                ClientEndpoints.lastPort(instance));
        String name = "replay-" + instance + "@" + ManagementFactory.getRuntimeMXBean().getName();
        TcpEngine engine;
        try {
            engine = new TcpEngine(request.target(), request.speed(), tuning, tcp, endpoints, counters);
        } catch (IllegalStateException e) {
            throw new UserInputException(e.getMessage(), e);
        }
        try (engine; InterceptClient intercept = new InterceptClient(engine.group(), tcp.interceptAddresses(),
                tcp.token(), name, route, tcp.interceptCa(), engine::onRelayed, counters)) {
            intercept.onRefusal(() -> {
                stop();
                engine.interruptAll(); // no answers will come for them: end them now, counted as interrupted
            });
            intercept.start(INTERCEPT_WAIT);
            log.info("replaying {} to {} with the tcp engine at speed {}: clients {} ports {}-{} (instance {}), {} intercept(s)",
                    request.topic(), TargetAddress.show(request.target()), request.speed(), range,
                    route.firstPort(), route.lastPort(), instance, intercept.connected());
            TcpCaptureFeed f;
            try {
                f = new TcpCaptureFeed(request, tuning, engine, counters);
            } catch (KafkaException e) {
                throw new UserInputException("cannot create a Kafka consumer: " + e.getMessage(), e);
            }
            try {
                f.checkTopic(tuning.brokerWait());
                feed = f;
                if (!stopRequested) {
                    f.run(() -> { });
                }
            } finally {
                f.close();
            }
            SessionDrain.drain(engine, () -> stopRequested, tuning.drainTimeout(), now -> { });
            intercept.failIfRefused();
        }
        return counters.snapshot((System.nanoTime() - t0) / 1e9);
    }

    /** Asks run() to finish gracefully (any thread, e.g. a shutdown hook). */
    public void stop() {
        stopRequested = true;
        TcpCaptureFeed f = feed;
        if (f != null) {
            f.stop();
        }
    }

    @Override
    public void close() {
        stop();
    }

    private long quarantineNanos() {
        // Long enough for the test server's last retransmissions of a connection to die out.
        return Math.max(2 * tuning.quietPeriod().toNanos(), 60_000_000_000L);
    }

    private void validate() {
        request.check();
        tcp.validate();
        if (!tcp.tcpEngine()) {
            throw new UserInputException("TcpReplay needs --engine tcp");
        }
    }
}
