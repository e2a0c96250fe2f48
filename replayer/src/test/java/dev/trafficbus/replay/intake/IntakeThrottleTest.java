package dev.trafficbus.replay.intake;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** When the intake holds the topic back, and which partitions it reads all the same. */
class IntakeThrottleTest {
    private static final long BUDGET = 1_000_000;

    /** What an engine holds at one moment. */
    private static final class Load implements IntakeLoad {
        long pending;
        int slots = 50;
        int inUse;
        int waiting;
        final Set<Integer> starvedOn = new HashSet<>();

        @Override
        public long pendingBytes() {
            return pending;
        }

        @Override
        public int connectionSlots() {
            return slots;
        }

        @Override
        public int slotsInUse() {
            return inUse;
        }

        @Override
        public int starvedSlots() {
            return starvedOn.size();
        }

        @Override
        public boolean starvedOn(int partition) {
            return starvedOn.contains(partition);
        }

        @Override
        public int sessionsWaitingForSlot() {
            return waiting;
        }
    }

    @Test
    void aLongQueueHoldsBackOnlyThePartitionsNoSlotWaitsOn() {
        Load load = new Load();
        IntakeThrottle t = new IntakeThrottle(load, BUDGET);
        load.inUse = 50;
        load.waiting = 49;
        t.update(0);
        assertThat(t.paused()).isFalse();
        assertThat(t.reads(0)).isTrue();

        load.waiting = 50; // a queue as long as the slots: the topic is held back...
        load.starvedOn.add(3);
        t.update(1);
        assertThat(t.paused()).isTrue();
        assertThat(t.reads(0)).isFalse();
        assertThat(t.reads(3)).as("a slot waits on partition 3: it is read all the same").isTrue();

        load.starvedOn.clear(); // its session got its message
        t.update(2);
        assertThat(t.reads(3)).isFalse();

        load.waiting = 26; // let go only at half the slots
        t.update(3);
        assertThat(t.paused()).isTrue();
        load.waiting = 25;
        t.update(4);
        assertThat(t.paused()).isFalse();
        assertThat(t.reads(0)).isTrue();
    }

    @Test
    void overTheBudgetNothingIsReadNotEvenForAStarvedSlot() {
        Load load = new Load();
        IntakeThrottle t = new IntakeThrottle(load, BUDGET);
        load.inUse = 50;
        load.waiting = 10;
        load.starvedOn.add(1);
        load.pending = BUDGET + 1;
        t.update(0);
        assertThat(t.paused()).isTrue();
        assertThat(t.reads(1)).isFalse();

        load.pending = BUDGET; // under the budget again, but not at half: held back, the starved slot fed
        t.update(1);
        assertThat(t.paused()).isTrue();
        assertThat(t.reads(1)).isTrue();
        assertThat(t.reads(0)).isFalse();

        load.pending = BUDGET / 2;
        t.update(2);
        assertThat(t.paused()).isFalse();
    }

    @Test
    void everySlotStarvedWithSessionsQueuedNeverHoldsBack() {
        Load load = new Load();
        IntakeThrottle t = new IntakeThrottle(load, BUDGET);
        load.slots = 2;
        load.inUse = 2;
        load.waiting = 500;
        load.pending = 10 * BUDGET;
        load.starvedOn.add(0);
        load.starvedOn.add(1);
        t.update(0);
        assertThat(t.paused()).as("the queued bytes drain only after more input").isFalse();
        assertThat(t.reads(0)).isTrue();
        assertThat(t.reads(5)).isTrue();
    }

    @Test
    void timeHeldBackDoesNotCountAsActive() {
        Load load = new Load();
        IntakeThrottle t = new IntakeThrottle(load, BUDGET);
        load.waiting = 50;
        t.update(1_000);
        load.waiting = 0;
        t.update(5_000);
        assertThat(t.activeNanos(6_000)).isEqualTo(2_000);
        load.waiting = 50;
        t.update(7_000);
        assertThat(t.activeNanos(8_000)).isEqualTo(3_000);
    }
}
