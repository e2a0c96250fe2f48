package dev.trafficbus.intercept;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends open batches about every millisecond while there is something to send or hold, and sleeps otherwise, so an
 * idle intercept costs no CPU. The router wakes it ({@link #wake}) when the first packet after a quiet spell comes.
 */
final class RelayFlusher implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayFlusher.class);
    /** Longest time a packet waits in an open batch; short, since a replayer may be waiting for a SYN-ACK. */
    static final long FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final ResponseRouter router;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean sleeping;

    RelayFlusher(ResponseRouter router) {
        this.router = router;
        this.thread = new Thread(this, "trafficbus-intercept-flush");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Called by the router when work appears after a quiet spell. */
    void wake() {
        if (sleeping) {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public void run() {
        while (running) {
            if (router.hasPendingWork()) {
                LockSupport.parkNanos(FLUSH_NANOS);
                try {
                    router.tick(System.nanoTime());
                } catch (RuntimeException e) {
                    LOG.error("relay flush failed", e);
                }
            } else {
                sleeping = true;
                if (!router.hasPendingWork() && running) { // re-check: a wake before 'sleeping' was set is not lost
                    LockSupport.parkNanos(IDLE_NANOS);
                }
                sleeping = false;
            }
        }
    }

    /** Stops the thread (the final flush is the caller's); waits up to a second for it. */
    void stop() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
