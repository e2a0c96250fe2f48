package dev.trafficbus.subscription;

import java.nio.charset.StandardCharsets;

/**
 * Deterministic session sampling: a 64-bit hash of (subscription name, flow key, session start sequence) mapped
 * to [0, 100). The same session gets the same decision on every instance and every rerun, and different
 * subscriptions sample independently.
 */
public final class SessionSampler {
    private SessionSampler() {
    }

    /** True when the session is in the sample of {@code percent} (0..100). */
    public static boolean keep(String subscription, byte[] flowKey, long startSeq, double percent) {
        if (percent >= 100.0) {
            return true;
        }
        if (percent <= 0.0) {
            return false;
        }
        return point(subscription, flowKey, startSeq) < percent;
    }

    /** The session's position in [0, 100). */
    static double point(String subscription, byte[] flowKey, long startSeq) {
        long h = 0x9E3779B97F4A7C15L;
        for (byte b : subscription.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ (b & 0xFF));
        }
        h = mix(h ^ 0xFF); // separator, so "ab"+key differs from "a"+"b..."
        for (byte b : flowKey) {
            h = mix(h ^ (b & 0xFF));
        }
        h = mix(h ^ startSeq);
        return (h >>> 11) * 0x1.0p-53 * 100.0;
    }

    private static long mix(long z) {
        // SplitMix64 finalizer: well spread, cheap, fixed forever (decisions must not change between versions).
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
