package dev.trafficbus.capture;

import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Time from capture (the packet's timestamp) to the broker's acknowledgement, recorded on the producer's
 * thread: into a Micrometer timer for the metrics endpoint, and into sums the status line reads per interval.
 */
final class PublishLatency {
    private final Timer timer;
    private final LongAdder count = new LongAdder();
    private final LongAdder sumMicros = new LongAdder();
    private final AtomicLong maxMicros = new AtomicLong();

    /** {@code timer} may be null (no metrics endpoint). */
    PublishLatency(Timer timer) {
        this.timer = timer;
    }

    void record(long capturedMicros) {
        long micros = Math.max(0, System.currentTimeMillis() * 1000L - capturedMicros);
        count.increment();
        sumMicros.add(micros);
        long max = maxMicros.get();
        while (micros > max && !maxMicros.compareAndSet(max, micros)) {
            max = maxMicros.get();
        }
        if (timer != null) {
            timer.record(micros, TimeUnit.MICROSECONDS);
        }
    }

    /** Count, sum and max (µs) so far; the max starts again after each call. */
    long[] sampleAndResetMax() {
        return new long[] {count.sum(), sumMicros.sum(), maxMicros.getAndSet(0)};
    }
}
