package dev.trafficbus.subscription;

import java.time.Duration;

/**
 * Bounds of the per-session state.
 *
 * @param maxHeadBytes  most client bytes searched for the first request head; beyond it the session is dropped
 *                      as {@code http-head-too-large}
 * @param maxHeldBytes  most bytes of packets held for one session while its HTTP decision is pending
 * @param heldIdle      a held session with no packet for this long is dropped and counted {@code expired}
 * @param sessionIdle   a decided session's state is forgotten after this long without packets
 * @param sweepInterval how often idle sessions are looked for (wall clock)
 */
public record ProcessorSettings(int maxHeadBytes, int maxHeldBytes, Duration heldIdle, Duration sessionIdle,
                                Duration sweepInterval) {
    /** 16 KiB heads, 1 MiB held per session, held sessions expire after 30 s, state after 10 min. */
    public static ProcessorSettings defaults() {
        return new ProcessorSettings(16 * 1024, 1024 * 1024, Duration.ofSeconds(30), Duration.ofMinutes(10),
                Duration.ofSeconds(5));
    }

    public ProcessorSettings withHeldIdle(Duration d) {
        return new ProcessorSettings(maxHeadBytes, maxHeldBytes, d, sessionIdle, sweepInterval);
    }
}
