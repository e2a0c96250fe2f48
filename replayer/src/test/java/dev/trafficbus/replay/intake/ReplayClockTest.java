package dev.trafficbus.replay.intake;

import dev.trafficbus.replay.ReplaySpeed;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReplayClockTest {
    private static final long SECOND_MICROS = 1_000_000;
    private static final long MS = 1_000_000;

    @Test
    void theClockStartsWhenTheFirstSessionAsksNotWhenTheRecordArrived() throws Exception {
        ReplayClock clock = new ReplayClock(ReplaySpeed.parse("1"));
        clock.anchor(5 * SECOND_MICROS);
        Thread.sleep(200); // the intake handles the first records, the group settles: nothing is due yet
        long asked = System.nanoTime();
        long first = clock.sessionStartDue(5 * SECOND_MICROS);
        assertThat(first).as("the anchoring session is due when it asks, not 200 ms before").isGreaterThanOrEqualTo(asked);
        assertThat(clock.sessionStartDue(6 * SECOND_MICROS) - first).isEqualTo(1000 * MS);
    }

    @Test
    void aLateFirstConnectionShiftsTheSessionsNotYetStartedByItsLateness() throws Exception {
        ReplayClock clock = new ReplayClock(ReplaySpeed.parse("1"));
        clock.anchor(0);
        long start = clock.sessionStartDue(0);
        Thread.sleep(100); // the first connection takes 100 ms
        long asked = System.nanoTime();
        assertThat(clock.sessionStartDue(10_000)).as("a session captured 10 ms later waits for the first one")
                .isGreaterThan(asked).isLessThan(asked + 1000 * MS);
        long ready = System.nanoTime();
        assertThat(clock.dueAfter(start, 1_000)).isEqualTo(start + MS);
        long second = clock.sessionStartDue(2 * SECOND_MICROS);
        assertThat(second - ready).as("the second session 2 s after the first one's first message")
                .isGreaterThanOrEqualTo(2000 * MS - MS);
        // Only once: later messages and sessions do not move the clock again.
        Thread.sleep(50);
        clock.dueAfter(start, 2_000);
        assertThat(clock.sessionStartDue(2 * SECOND_MICROS)).isEqualTo(second);
    }

    @Test
    void aLaterSessionAskingFirstDoesNotHoldBackTheEarliestOne() throws Exception {
        ReplayClock clock = new ReplayClock(ReplaySpeed.parse("1"));
        clock.anchor(0);
        // The second session's partition was read first: it asks first and is told its time, 533 ms on.
        long second = clock.sessionStartDue(533_000);
        long asked = System.nanoTime();
        long first = clock.sessionStartDue(0);
        assertThat(first).as("the earliest session is due at once").isLessThanOrEqualTo(asked);
        assertThat(second - first).isEqualTo(533 * MS);
        Thread.sleep(60); // its connection takes 60 ms
        clock.dueAfter(first, 100);
        assertThat(clock.sessionStartDue(533_000) - first).as("the second one keeps its gap to the first's message")
                .isGreaterThanOrEqualTo(533 * MS + 60 * MS - 100_000);
    }

    @Test
    void aNewPassStartsTheClockAgainAndMaxSpeedIsAlwaysDue() throws Exception {
        ReplayClock clock = new ReplayClock(ReplaySpeed.parse("2"));
        clock.anchor(0);
        long first = clock.sessionStartDue(0);
        assertThat(clock.sessionStartDue(SECOND_MICROS) - first).as("1 s of capture at speed 2").isEqualTo(500 * MS);
        clock.reset();
        clock.anchor(0);
        Thread.sleep(20);
        assertThat(clock.sessionStartDue(0)).isGreaterThan(first);

        ReplayClock max = new ReplayClock(ReplaySpeed.parse("max"));
        max.anchor(0);
        assertThat(max.sessionStartDue(SECOND_MICROS)).isEqualTo(Long.MIN_VALUE);
        assertThat(max.dueAfter(System.nanoTime(), SECOND_MICROS)).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void followingALiveTopicTheClockComesForwardToASessionThatCameSoonerThanTheFirst() {
        long now = System.currentTimeMillis() * 1000;
        ReplayClock clock = new ReplayClock(ReplaySpeed.parse("1"));
        // The first record reached the replayer 400 ms after its capture (the producer's first send).
        clock.anchor(now - 400_000);
        long first = clock.sessionStartDue(now - 400_000);
        clock.dueAfter(first, 0);
        // One captured 30 ms ago: 370 ms after the first, but there is no reason to wait 370 ms for it.
        long asked = System.nanoTime();
        long due = clock.sessionStartDue(now - 30_000);
        assertThat(due - asked).as("due 25 ms on, not 370").isBetween(15 * MS, 40 * MS);
        // One whose record came later after its capture (captured 5 ms before it) keeps its gap to it.
        assertThat(due - clock.sessionStartDue(now - 35_000)).isEqualTo(5 * MS);
    }

    @Test
    void replayingOlderRecordsAtSpeedOneKeepsThePaceOfTheCapture() {
        long now = System.currentTimeMillis() * 1000;
        ReplayClock clock = new ReplayClock(ReplaySpeed.parse("1"));
        clock.anchor(now - 60 * SECOND_MICROS); // a minute behind the capture: not its live edge
        long first = clock.sessionStartDue(now - 60 * SECOND_MICROS);
        clock.dueAfter(first, 0);
        assertThat(clock.sessionStartDue(now - SECOND_MICROS) - first).isBetween(59_000 * MS, 59_010 * MS);
    }
}
