package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.intercept.frame.Route;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.intake.EngineContext;
import dev.trafficbus.replay.intake.ReplayRun;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The {@code tcp} session engine (tcpcopy-style): replays every captured session of a topic as raw IP packets
 * from fake client addresses; intercept relays the test server's answers. The intake is the socket engine's
 * ({@link ReplayRun}): window, rate, loops, HTTP rewrites, response records, at-least-once commits, report.
 * Follows the topic until {@link #stop()}, or with until-end stops after what the topic held at start.
 */
public final class TcpReplay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpReplay.class);
    private static final Duration INTERCEPT_WAIT = Duration.ofSeconds(10);

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private final TcpEngineOptions tcp;
    private final ReplayRun run;

    /** A tcp-engine replay without the archive features; the options are validated by {@link #run()}. */
    public TcpReplay(ReplayRequest request, ReplayTuning tuning, TcpEngineOptions tcp) {
        this(request, tuning, ReplayOptions.defaults(), tcp);
    }

    /** A tcp-engine replay with archive features: window, rate, loops, HTTP rewrites, response records, timeline. */
    public TcpReplay(ReplayRequest request, ReplayTuning tuning, ReplayOptions options, TcpEngineOptions tcp) {
        this.request = request;
        this.tuning = tuning;
        this.tcp = tcp;
        this.run = new ReplayRun(request, tuning, options, "tcp");
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

    /** The loss ledger after {@link #run()}, as the socket engine keeps it, with the packets sent and relayed. */
    public Map<String, Object> ledger() {
        return run.ledger();
    }

    /** Blocks until the end (untilEnd) or until stop(); returns the counters. */
    public ReplaySummary run() {
        request.check();
        tcp.validate();
        if (!tcp.tcpEngine()) {
            throw new UserInputException("TcpReplay needs --engine tcp");
        }
        return run.run(this::engine);
    }

    /** The engine of the run: raw sender, fake endpoints, and the intercept connections that bring the answers. */
    private TcpEngine engine(EngineContext ctx) {
        ClientRange range = tcp.clientRange();
        int instance = tcp.instanceOrDefault();
        ClientEndpoints endpoints = new ClientEndpoints(range, instance, quarantineNanos());
        Route route = new Route(range.network(), range.prefixLength(), ClientEndpoints.firstPort(instance),
                ClientEndpoints.lastPort(instance));
        String name = "replay-" + instance + "@" + ManagementFactory.getRuntimeMXBean().getName();
        TcpEngine engine;
        try {
            engine = new TcpEngine(ctx, tcp, endpoints, null);
        } catch (IllegalStateException e) {
            throw new UserInputException(e.getMessage(), e);
        }
        try {
            InterceptClient intercept = new InterceptClient(engine.group(), tcp.interceptAddresses(), tcp.token(),
                    name, route, tcp.interceptCa(), engine::onRelayed, ctx.counters());
            engine.relayedBy(intercept);
            intercept.onRefusal(() -> {
                stop();
                engine.interruptAll(); // no answers will come for them: end them now, counted as interrupted
            });
            intercept.start(INTERCEPT_WAIT);
            payloadCheck(intercept.headersOnly(), ctx.options());
            log.info("tcp engine: clients {} ports {}-{} (instance {}), {} intercept(s)", range, route.firstPort(),
                    route.lastPort(), instance, intercept.connected());
            return engine;
        } catch (RuntimeException | Error e) {
            engine.close();
            throw e;
        }
    }

    /**
     * An https target cannot be replayed through intercepts that relay headers only ({@code headersOnly}): its answers
     * must be decrypted. Rewrites and response records still run without the bytes, reading fewer answers: said once.
     */
    private static void payloadCheck(List<String> headersOnly, ReplayOptions options) {
        if (headersOnly.isEmpty()) {
            return;
        }
        String which = "intercept " + String.join(", ", headersOnly) + " relays the answers' headers only";
        if (options.tls() != null) {
            throw new UserInputException("an https target's answers must be decrypted, but " + which
                    + ": start it with --with-payload");
        }
        if (options.httpAware()) {
            log.warn("{}: answers are judged by size and silence, not read as HTTP (counted answer-unseen); start it "
                    + "with --with-payload to read them", which);
        }
    }

    /** Asks run() to finish gracefully (any thread, e.g. a shutdown hook). */
    public void stop() {
        run.stop();
    }

    @Override
    public void close() {
        stop();
    }

    private long quarantineNanos() {
        // Long enough for the test server's last retransmissions of a connection to die out.
        return Math.max(2 * tuning.quietPeriod().toNanos(), 60_000_000_000L);
    }
}
