package dev.trafficbus.export;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TimestampMergeTest {
    private static TimestampMerge.Entry at(long micros) {
        return new TimestampMerge.Entry(micros, true, new byte[0], 0, 0, 0);
    }

    private static List<Long> drain(TimestampMerge m) {
        List<Long> out = new ArrayList<>();
        for (TimestampMerge.Entry e = m.poll(); e != null; e = m.poll()) {
            out.add(e.timestampMicros());
        }
        return out;
    }

    @Test
    void waitsForEveryOpenPartitionBeforeTakingTheEarliestHead() {
        TimestampMerge m = new TimestampMerge(3);
        m.add(0, at(10));
        m.add(0, at(40));
        m.add(1, at(20));
        // Partition 2 has delivered nothing yet: its first packet could be the earliest of all.
        assertThat(m.poll()).isNull();
        m.add(2, at(5));
        assertThat(drain(m)).containsExactly(5L);
        // Partition 2 is empty again but may deliver more; once it is finished the others flow until 1 runs dry.
        m.finish(2);
        assertThat(drain(m)).containsExactly(10L, 20L);
        m.finish(1);
        assertThat(drain(m)).containsExactly(40L);
        assertThat(m.drained()).isFalse();
        m.finish(0);
        assertThat(m.drained()).isTrue();
    }

    @Test
    void equalTimesKeepPartitionOrderAndAnEmptyFinishedPartitionNeverBlocks() {
        TimestampMerge m = new TimestampMerge(2);
        m.finish(0);
        m.add(1, at(7));
        m.add(1, at(7));
        m.finish(1);
        assertThat(drain(m)).containsExactly(7L, 7L);
        assertThat(m.drained()).isTrue();
    }

    @Test
    void aPartitionIsFullByRecordsOrByBytesWhicheverComesFirst() {
        TimestampMerge m = new TimestampMerge(2, 10, 1000);
        m.add(0, new TimestampMerge.Entry(1, true, new byte[600], 0, 600, 600));
        assertThat(m.full(0)).isFalse();
        m.add(0, new TimestampMerge.Entry(2, true, new byte[600], 0, 600, 600));
        // Two 64 KB packets count as much as 128 KB, not as two records: large packets must not blow the heap.
        assertThat(m.full(0)).isTrue();
        for (int i = 0; i < 9; i++) {
            m.add(1, at(i));
        }
        assertThat(m.full(1)).isFalse();
        m.add(1, at(9));
        assertThat(m.full(1)).isTrue();
        assertThat(m.poll().timestampMicros()).isEqualTo(0);
        assertThat(m.full(1)).isFalse();
        m.finish(0);
        m.finish(1);
        assertThat(drain(m)).containsExactly(1L, 1L, 2L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(m.full(0)).isFalse();
    }
}
