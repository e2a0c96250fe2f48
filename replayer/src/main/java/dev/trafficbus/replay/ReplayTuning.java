package dev.trafficbus.replay;

import java.time.Duration;

/**
 * Limits and timeouts of a replay; {@link #defaults()} suits most runs.
 *
 * @param responseTimeout  longest wait for the answer to one message before moving on (counted)
 * @param quietPeriod      for protocols without known framing: an answer whose size differs from the capture is
 *                         complete after this much silence
 * @param connectTimeout   longest wait for a connection to the target
 * @param maxConnections   connections open to the target at once; further session starts queue
 * @param maxBufferedBytes captured bytes waiting to be sent before the consumer pauses
 * @param idleFlush        live mode: a flow with nothing new for this long has its message in progress sent
 * @param idleEnd          live mode: a flow with nothing new for this long is ended
 * @param drainTimeout     after a stop, how long running sessions may take to finish
 * @param brokerWait       how long to wait for the broker at start
 * @param ioThreads        event loop threads (0: one per core)
 */
public record ReplayTuning(Duration responseTimeout, Duration quietPeriod, Duration connectTimeout, int maxConnections,
                           long maxBufferedBytes, Duration idleFlush, Duration idleEnd, Duration drainTimeout,
                           Duration brokerWait, int ioThreads) {
    public ReplayTuning {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be >= 1");
        }
        if (maxBufferedBytes < 1) {
            throw new IllegalArgumentException("maxBufferedBytes must be >= 1");
        }
    }

    /** 10 s response timeout, 50 ms quiet period, 5 s connect timeout, 2000 connections, 256 MB buffered. */
    public static ReplayTuning defaults() {
        return new ReplayTuning(Duration.ofSeconds(10), Duration.ofMillis(50), Duration.ofSeconds(5), 2000,
                256L << 20, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(10),
                Duration.ofSeconds(15), 0);
    }

    /** A copy with the response timeout changed. */
    public ReplayTuning withResponseTimeout(Duration d) {
        return new ReplayTuning(d, quietPeriod, connectTimeout, maxConnections, maxBufferedBytes, idleFlush, idleEnd,
                drainTimeout, brokerWait, ioThreads);
    }

    /** A copy with the quiet period changed. */
    public ReplayTuning withQuietPeriod(Duration d) {
        return new ReplayTuning(responseTimeout, d, connectTimeout, maxConnections, maxBufferedBytes, idleFlush, idleEnd,
                drainTimeout, brokerWait, ioThreads);
    }

    /** A copy with the connect timeout changed. */
    public ReplayTuning withConnectTimeout(Duration d) {
        return new ReplayTuning(responseTimeout, quietPeriod, d, maxConnections, maxBufferedBytes, idleFlush, idleEnd,
                drainTimeout, brokerWait, ioThreads);
    }

    /** A copy with the connection cap changed. */
    public ReplayTuning withMaxConnections(int n) {
        return new ReplayTuning(responseTimeout, quietPeriod, connectTimeout, n, maxBufferedBytes, idleFlush, idleEnd,
                drainTimeout, brokerWait, ioThreads);
    }

    /** A copy with the buffered-bytes limit changed. */
    public ReplayTuning withMaxBufferedBytes(long n) {
        return new ReplayTuning(responseTimeout, quietPeriod, connectTimeout, maxConnections, n, idleFlush, idleEnd,
                drainTimeout, brokerWait, ioThreads);
    }

    /** A copy with the drain timeout changed. */
    public ReplayTuning withDrainTimeout(Duration d) {
        return new ReplayTuning(responseTimeout, quietPeriod, connectTimeout, maxConnections, maxBufferedBytes,
                idleFlush, idleEnd, d, brokerWait, ioThreads);
    }

    /** A copy with the broker wait changed. */
    public ReplayTuning withBrokerWait(Duration d) {
        return new ReplayTuning(responseTimeout, quietPeriod, connectTimeout, maxConnections, maxBufferedBytes,
                idleFlush, idleEnd, drainTimeout, d, ioThreads);
    }

    /** A copy with the number of event loop threads changed. */
    public ReplayTuning withIoThreads(int n) {
        return new ReplayTuning(responseTimeout, quietPeriod, connectTimeout, maxConnections, maxBufferedBytes,
                idleFlush, idleEnd, drainTimeout, brokerWait, n);
    }
}
