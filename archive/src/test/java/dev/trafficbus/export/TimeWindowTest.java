package dev.trafficbus.export;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TimeWindowTest {
    /** 2026-11-21T14:00:00Z in microseconds. */
    private static final long T = 1_795_269_600_000_000L;

    @Test
    void wholeMicrosecondsAreExactAndToIsExclusive() {
        TimeWindow w = TimeWindow.parse("2026-11-21T14:00:00Z", "2026-11-21T15:00:00.000250+01:00");
        assertThat(w.fromMicros()).isEqualTo(T);
        assertThat(w.toMicros()).isEqualTo(T + 250);
        assertThat(w.contains(T - 1)).isFalse();
        assertThat(w.contains(T)).isTrue();
        assertThat(w.contains(T + 249)).isTrue();
        assertThat(w.contains(T + 250)).isFalse();
    }

    @Test
    void fractionsFinerThanAMicrosecondKeepThePacketsOnTheRightSideOfTheEdge() {
        // Capture times are whole microseconds: a packet at T+1 is inside [T+0.5us, T+1.5us), one at T is not.
        TimeWindow w = TimeWindow.parse("2026-11-21T14:00:00.0000005Z", "2026-11-21T14:00:00.0000015Z");
        assertThat(w.contains(T)).isFalse();
        assertThat(w.contains(T + 1)).isTrue();
        assertThat(w.contains(T + 2)).isFalse();
        TimeWindow before1970 = TimeWindow.parse("1969-12-31T23:59:59.9999995Z", null);
        assertThat(before1970.contains(-1)).isFalse();
        assertThat(before1970.contains(0)).isTrue();
    }

    @Test
    void kafkaMillisecondBoundsCoverEveryMicrosecondOfTheWindow() {
        TimeWindow w = new TimeWindow(T + 1500, T + 2500);
        assertThat(w.fromMillis()).isEqualTo(T / 1000 + 1);
        assertThat(w.toMillisExclusive()).isEqualTo(T / 1000 + 3);
        TimeWindow exact = new TimeWindow(T, T + 2000);
        assertThat(exact.toMillisExclusive()).isEqualTo(T / 1000 + 2);
    }
}
