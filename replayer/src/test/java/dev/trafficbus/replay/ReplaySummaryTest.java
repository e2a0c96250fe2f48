package dev.trafficbus.replay;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReplaySummaryTest {
    private static ReplaySummary summary(long seen, long replayed, long failed, long incomplete, long sent, long answered) {
        return new ReplaySummary(seen, replayed, failed, incomplete, sent, answered, 100, answered > 0 ? 50 : 0,
                Map.of(), 10, 0, 20, 0, 1.0, Map.of(), Map.of(), Map.of());
    }

    @Test
    void everySessionReplayedAndAnsweredIsZero() {
        assertThat(summary(5, 5, 0, 0, 8, 8).exitCode()).isEqualTo(ReplaySummary.EXIT_OK);
        assertThat(summary(5, 5, 0, 0, 8, 8).incompleteness()).isNull();
    }

    @Test
    void incompleteSessionsOrUnansweredMessagesAreThree() {
        ReplaySummary gaps = summary(5, 0, 0, 5, 8, 0);
        assertThat(gaps.exitCode()).isEqualTo(ReplaySummary.EXIT_INCOMPLETE);
        assertThat(gaps.incompleteness()).isEqualTo("5 of 5 sessions incomplete, 8 of 8 messages unanswered");
        ReplaySummary silent = summary(1, 1, 0, 0, 1, 0);
        assertThat(silent.exitCode()).isEqualTo(3);
        assertThat(silent.incompleteness()).isEqualTo("1 of 1 messages unanswered");
    }

    @Test
    void aFailedSessionOrNothingReplayedIsOneAndWinsOverThree() {
        assertThat(summary(5, 3, 1, 1, 8, 4).exitCode()).isEqualTo(ReplaySummary.EXIT_FAILED);
        assertThat(summary(0, 0, 0, 0, 0, 0).exitCode()).isEqualTo(ReplaySummary.EXIT_FAILED);
        assertThat(summary(5, 3, 1, 1, 8, 4).incompleteness()).isNull();
    }
}
