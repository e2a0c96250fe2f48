package dev.trafficbus.intercept;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running intercept: the capture thread, the replayer listener, the 1 ms batch flush and the status line.
 * {@link #start} opens the capture and the listening socket on the calling thread (so both live in that thread's
 * network namespace); {@link #stop} ends everything and leaves the final counters in {@link #counters()}.
 */
public final class Intercept implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Intercept.class);
    /** How long {@link #stop} lets queued frames reach the replayers before closing their connections. */
    private static final long DRAIN_MILLIS = 1000;

    private final InterceptCounters counters;
    private final ResponseRouter router;
    private final ResponseCapture capture;
    private final InterceptServer server;
    private final InetSocketAddress bound;
    private final ScheduledExecutorService timers;
    private final RelayFlusher flusher;
    private final Thread captureThread;
    private final CountDownLatch captureEnded = new CountDownLatch(1);
    private final String description;
    private volatile Throwable failure;
    private boolean stopped;

    private Intercept(InterceptSettings settings, InterceptCounters counters) {
        this.counters = counters;
        this.router = new ResponseRouter(new HeldResponses(settings.holdTime().toNanos(),
                InterceptSettings.HOLD_MAX_PACKETS, InterceptSettings.HOLD_MAX_BYTES), counters);
        this.capture = ResponseCapture.open(settings.interfaceName(), settings.filter(), router, counters,
                settings.withPayload());
        InterceptServer srv = null;
        try {
            srv = new InterceptServer();
            this.bound = srv.bind(settings.listen(), settings.tls(), settings.token(), settings.withPayload(),
                    settings.helloTimeout().toMillis(), settings.maxQueue(), router, counters);
            capture.excludeOwnChannel(bound);
        } catch (RuntimeException e) {
            if (srv != null) {
                srv.close();
            }
            capture.close();
            throw e;
        }
        this.server = srv;
        this.flusher = new RelayFlusher(router);
        router.onWork(flusher::wake);
        flusher.start();
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "trafficbus-intercept-status");
            t.setDaemon(true);
            return t;
        });
        Duration every = settings.statusInterval();
        if (every != null && !every.isZero() && !every.isNegative()) {
            timers.scheduleAtFixedRate(() -> LOG.info("status: {}", statusLine()), every.toMillis(), every.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        this.captureThread = new Thread(this::captureLoop, "trafficbus-intercept-capture");
        captureThread.setDaemon(true);
        captureThread.start();
        this.description = "intercept capturing on " + settings.interfaceName() + " (" + capture.linkDescription()
                + ") with filter '" + settings.filter() + "', listening on " + bound
                + (settings.tls() != null ? " (TLS)" : "") + (settings.token() == null ? " without authentication" : "");
    }

    /**
     * What runs where, in one line ("intercept capturing on IF (...) with filter '...', listening on /IP:PORT").
     * The command logs it once it can also be stopped cleanly: supervisors take it as the readiness signal.
     */
    public String description() {
        return description;
    }

    /** Opens the capture and the listener (in the calling thread's network namespace) and starts relaying. */
    public static Intercept start(InterceptSettings settings, InterceptCounters counters) {
        return new Intercept(settings, counters);
    }

    private void captureLoop() {
        try {
            capture.run();
        } catch (Throwable t) {
            failure = t;
            LOG.error("capture stopped: {}", t.getMessage());
        } finally {
            captureEnded.countDown();
        }
    }

    /** Where replayers connect (the actual port when 0 was asked for). */
    public InetSocketAddress listenAddress() {
        return bound;
    }

    /** Waits until the capture ends (stop or failure); true when it did within {@code timeout}. */
    public boolean awaitCaptureEnd(Duration timeout) throws InterruptedException {
        return captureEnded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Why the capture ended on its own (e.g. the interface went away), or null. */
    public Throwable failure() {
        return failure;
    }

    /** The live counters. */
    public InterceptCounters counters() {
        return counters;
    }

    /** Packets waiting for a route now. */
    public int heldNow() {
        return router.heldCount();
    }

    /** Packets queued for replayers now. */
    public int queuedNow() {
        return router.queuedCount();
    }

    /** Packets the kernel dropped because the capture buffer was full (libpcap's count), or -1 when unknown. */
    public long kernelDrops() {
        return capture.kernelDrops();
    }

    /** The counters plus what is waiting right now, in one line. */
    public String statusLine() {
        long kernel = capture.kernelDrops();
        return counters.summaryLine() + ", routes " + router.routeCount() + ", held " + router.heldCount()
                + ", queued " + router.queuedCount() + (kernel > 0 ? ", kernel dropped " + kernel : "");
    }

    /** Stops capturing, sends what is queued (up to a second), closes every connection. Idempotent. */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        long t0 = System.nanoTime();
        capture.stop();
        try {
            if (!captureEnded.await(5, TimeUnit.SECONDS)) {
                LOG.warn("the capture loop did not end within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long captureStopped = System.nanoTime();
        timers.shutdownNow();
        flusher.stop();
        router.drain();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
        while (router.queuedCount() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long drained = System.nanoTime();
        server.close();
        if (captureEnded.getCount() == 0) {
            capture.close();
        }
        LOG.debug("stopped in {} ms: capture {} ms, drain {} ms, connections {} ms", millis(t0, System.nanoTime()),
                millis(t0, captureStopped), millis(captureStopped, drained), millis(drained, System.nanoTime()));
    }

    private static long millis(long fromNanos, long toNanos) {
        return TimeUnit.NANOSECONDS.toMillis(toNanos - fromNanos);
    }

    @Override
    public void close() {
        stop();
    }
}
