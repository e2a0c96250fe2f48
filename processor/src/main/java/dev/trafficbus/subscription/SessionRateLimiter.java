package dev.trafficbus.subscription;

/**
 * Token bucket on capture time: at most {@code rate} new sessions per second of capture time, bursts up to one
 * second's worth. Capture time (not wall time) keeps decisions the same on a rerun at any speed. Shared by the
 * stream tasks of one instance, so the cap holds per processor instance.
 */
final class SessionRateLimiter {
    private final double rate;
    private final double capacity;
    private double tokens;
    private long lastMicros = Long.MIN_VALUE;

    SessionRateLimiter(double rate) {
        this.rate = rate;
        this.capacity = Math.max(1.0, rate);
        this.tokens = capacity;
    }

    /** Takes one token for a session starting at {@code micros}; false when the cap is reached. */
    synchronized boolean tryAcquire(long micros) {
        if (lastMicros != Long.MIN_VALUE && micros > lastMicros) {
            tokens = Math.min(capacity, tokens + (micros - lastMicros) / 1e6 * rate);
        }
        if (lastMicros == Long.MIN_VALUE || micros > lastMicros) {
            lastMicros = micros;
        }
        if (tokens >= 1.0) {
            tokens -= 1.0;
            return true;
        }
        return false;
    }
}
