package dev.trafficbus.capture;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread that takes records from the {@link PendingRing} and hands them to the producer, so the capture
 * thread never waits for Kafka: when the producer's buffer is full (broker slow or down) this thread waits in
 * {@code send} and the ring fills instead, up to its bounds. Polls with short sleeps rather than being woken per
 * packet, which would cost a system call per packet at high rates.
 */
final class LiveSender implements PendingRing.Sink, CapturePublisher.DeliveryListener {
    private static final int DRAIN_MAX = 4096;
    private static final long BUSY_SLEEP_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long IDLE_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final int POLLS_BEFORE_IDLE = 200;

    private final PendingRing ring;
    private final CapturePublisher publisher;
    private final PublishLatency latency;
    private final Thread thread;
    private volatile boolean finishing;
    private volatile boolean aborted;
    private volatile long discarded;

    LiveSender(PendingRing ring, CapturePublisher publisher, PublishLatency latency, String threadName) {
        this.ring = ring;
        this.publisher = publisher;
        this.latency = latency;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        int emptyPolls = 0;
        while (!aborted) {
            if (ring.drain(this, DRAIN_MAX) > 0) {
                emptyPolls = 0;
                continue;
            }
            if (finishing) {
                if (ring.isEmpty()) {
                    return;
                }
                continue;
            }
            LockSupport.parkNanos(++emptyPolls < POLLS_BEFORE_IDLE ? BUSY_SLEEP_NANOS : IDLE_SLEEP_NANOS);
        }
        discarded += ring.discard();
    }

    @Override
    public void accept(byte[] key, byte[] value, long timestampMicros) {
        if (aborted) {
            // Taken from the ring just as the flush time ran out: it joins the ones discarded.
            ring.release(key.length + value.length);
            discarded++;
            return;
        }
        publisher.send(key, value, timestampMicros, this);
    }

    @Override
    public void acknowledged(int bytes, long timestampMicros) {
        ring.release(bytes);
        latency.record(timestampMicros);
    }

    @Override
    public void failed(int bytes) {
        ring.release(bytes);
    }

    /** Hands over everything queued, then stops; waits at most until {@code deadlineNanos}; true when done. */
    boolean finish(long deadlineNanos) throws InterruptedException {
        finishing = true;
        LockSupport.unpark(thread);
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        return !thread.isAlive();
    }

    /**
     * Stops handing over: what is still queued will be discarded. Call before closing the producer, which makes
     * a {@code send} waiting for buffer space return; then {@link #awaitDiscarded}.
     */
    void abort() {
        aborted = true;
        LockSupport.unpark(thread);
    }

    /** After {@link #abort}: waits for the thread to end and returns how many queued records it discarded. */
    long awaitDiscarded() throws InterruptedException {
        thread.join(10_000);
        return discarded;
    }
}
