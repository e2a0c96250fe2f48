package dev.trafficbus.capture;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The capture ring's size rule, with time passed in. */
class RingSizingTest {
    private static final long MS = 1_000_000L;
    private static final int MAX = 16 << 20;

    @Test
    void anIdleForwarderKeepsTheSmallRingAndATrickleDoesNotGrowIt() {
        RingSizing sizing = RingSizing.forBuffer(MAX, 0);
        assertThat(sizing.initialBytes()).isEqualTo(RingSizing.IDLE_BYTES);
        // 10 packets a second, one every 100 ms, for a minute: below the busy rate.
        for (long t = 0; t < 60_000; t += 100) {
            assertThat(sizing.observe(1, false, t * MS)).isZero();
        }
        assertThat(sizing.state()).isEqualTo(RingSizing.State.IDLE);
    }

    @Test
    void aBusySecondGrowsItAtOnceAndAQuietMinuteGivesItBack() {
        RingSizing sizing = RingSizing.forBuffer(MAX, 0);
        assertThat(sizing.observe(10, false, 10 * MS)).isZero();
        assertThat(sizing.observe(10, false, 20 * MS)).isEqualTo(MAX);
        assertThat(sizing.observe(500, false, 30 * MS)).isZero();
        // The last packets at 30 ms; reads keep coming back empty every 10 ms.
        long t = 40;
        for (; t < 30 + RingSizing.QUIET_AFTER.toMillis(); t += 10) {
            assertThat(sizing.observe(0, false, t * MS)).as("at %d ms", t).isZero();
        }
        assertThat(sizing.observe(0, false, t * MS)).isEqualTo(RingSizing.IDLE_BYTES);
        assertThat(sizing.state()).isEqualTo(RingSizing.State.IDLE);
    }

    @Test
    void aKernelDropGrowsItWhateverTheRate() {
        RingSizing sizing = RingSizing.forBuffer(MAX, 0);
        assertThat(sizing.observe(1, true, 5 * MS)).isEqualTo(MAX);
    }

    @Test
    void aRefusedGrowthIsTriedAgainOnlyAfterTheRetryTime() {
        RingSizing sizing = RingSizing.forBuffer(MAX, 0);
        assertThat(sizing.observe(50, false, 10 * MS)).isEqualTo(MAX);
        sizing.refused(MAX, 10 * MS);
        assertThat(sizing.state()).isEqualTo(RingSizing.State.IDLE);
        assertThat(sizing.observe(50, false, 20 * MS)).isZero();
        long retry = 10 * MS + RingSizing.RETRY_AFTER.toNanos();
        assertThat(sizing.observe(50, false, retry - MS)).isZero();
        assertThat(sizing.observe(50, false, retry)).isEqualTo(MAX);
    }

    @Test
    void aBufferNoLargerThanTheIdleRingIsNeverResized() {
        RingSizing sizing = new RingSizing(1 << 20, RingSizing.BUSY_PACKETS, Duration.ofSeconds(1), 0);
        assertThat(sizing.initialBytes()).isEqualTo(1 << 20);
        assertThat(sizing.observe(10_000, true, MS)).isZero();
        assertThat(sizing.observe(0, false, 5_000 * MS)).isZero();
    }
}
