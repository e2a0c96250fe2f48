package dev.trafficbus.capture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread that takes packets from the {@link PendingRing}, groups them per flow ({@link FlowBatcher}) and hands
 * the records to the producer, so the capture thread never waits for Kafka: when the
 * producer's buffer is full (broker slow or down) this thread waits in {@code send} and the ring fills instead,
 * up to its bounds. Polls with short sleeps rather than being woken per packet, which would cost a system call per
 * packet at high rates; a sleep never lasts more than a quarter of the window, so batches close close to it. Busy, it
 * sleeps that quarter (1.25 ms with the default window, at most 2 ms): each wake-up costs a context switch, and at
 * 500 us they were a quarter of this thread's CPU at 100,000 packets/s (bench/p2-live.sh).
 */
final class LiveSender implements PendingRing.Sink, FlowBatcher.Sink, CapturePublisher.DeliveryListener {
    private static final int DRAIN_MAX = 4096;
    private static final long BUSY_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final long IDLE_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long MIN_SLEEP_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    private static final int POLLS_BEFORE_IDLE = 200;

    private final PendingRing ring;
    private final CapturePublisher publisher;
    private final PublishLatency latency;
    private final FlowBatcher batcher;
    private final long busySleepNanos;
    private final long idleSleepNanos;
    private final Thread thread;
    private volatile boolean finishing;
    private volatile boolean aborted;
    private volatile long discarded; // written by the sending thread only
    private long clockMicros; // the batcher's clock, never going back
    private long newestCaptureMicros;

    LiveSender(PendingRing ring, CapturePublisher publisher, PublishLatency latency, Duration batchWindow,
               int batchMaxPackets, int maxValueBytes, String threadName) {
        this.ring = ring;
        this.publisher = publisher;
        this.latency = latency;
        this.batcher = new FlowBatcher(batchWindow, batchMaxPackets, maxValueBytes, this);
        long cap = batchWindow.isZero() ? IDLE_SLEEP_NANOS : Math.max(MIN_SLEEP_NANOS, batchWindow.toNanos() / 4);
        this.busySleepNanos = Math.min(BUSY_SLEEP_NANOS, cap);
        this.idleSleepNanos = Math.min(IDLE_SLEEP_NANOS, cap);
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        int emptyPolls = 0;
        while (!aborted) {
            int taken = ring.drain(this, DRAIN_MAX);
            // Keeping up, the clock is the wall clock, which also closes the windows of flows gone quiet. Behind (a
            // backlog after a slow broker), it is the capture time of what was just taken: a window then spans the
            // same stretch of capture time as when keeping up, so no record comes later than one window after
            // younger ones, which is what replay and export allow for.
            long now = taken == DRAIN_MAX ? newestCaptureMicros : System.currentTimeMillis() * 1000L;
            if (now > clockMicros) {
                clockMicros = now;
            }
            batcher.advanceTo(clockMicros);
            if (taken > 0) {
                emptyPolls = 0;
                continue;
            }
            if (finishing) {
                if (ring.isEmpty()) {
                    // Stopping: what is still batched goes out now rather than at the end of its window.
                    batcher.flushAll();
                    return;
                }
                continue;
            }
            LockSupport.parkNanos(++emptyPolls < POLLS_BEFORE_IDLE ? busySleepNanos : idleSleepNanos);
        }
        discarded += ring.discard();
        batcher.flushAll(); // aborted: every batch's packets are discarded in emit
    }

    @Override
    public void accept(byte[] key, int keyLength, byte[] packet, int packetLength, long timestampMicros,
                       int tcpFlags) {
        int bytes = PendingRing.cost(keyLength, packetLength);
        if (aborted) {
            // Taken from the ring just as the flush time ran out: it joins the ones discarded.
            ring.release(bytes);
            discarded++;
            return;
        }
        if (timestampMicros > newestCaptureMicros) {
            newestCaptureMicros = timestampMicros;
        }
        batcher.add(key, keyLength, packet, packetLength, tcpFlags, timestampMicros, bytes);
    }

    @Override
    public void emit(byte[] key, byte[] value, long firstMicros, int packets, long pendingBytes) {
        if (aborted) {
            ring.release(pendingBytes);
            discarded += packets;
            return;
        }
        publisher.send(key, value, firstMicros, packets, pendingBytes, this);
    }

    @Override
    public void acknowledged(long pendingBytes, long firstMicros) {
        ring.release(pendingBytes);
        latency.record(firstMicros);
    }

    @Override
    public void failed(long pendingBytes) {
        ring.release(pendingBytes);
    }

    /** Hands over everything queued or batched, then stops; waits at most until {@code deadlineNanos}; true when done. */
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
     * Stops handing over: what is still queued or batched will be discarded. Call before closing the producer,
     * which makes a {@code send} waiting for buffer space return; then {@link #awaitDiscarded}.
     */
    void abort() {
        aborted = true;
        LockSupport.unpark(thread);
    }

    /** True while the sending thread may still read the ring. */
    boolean running() {
        return thread.isAlive();
    }

    /** After {@link #abort}: waits for the thread to end and returns how many queued or batched packets it discarded. */
    long awaitDiscarded() throws InterruptedException {
        thread.join(10_000);
        return discarded;
    }
}
