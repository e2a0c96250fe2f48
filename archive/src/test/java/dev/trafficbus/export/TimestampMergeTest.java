package dev.trafficbus.export;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TimestampMergeTest {
    /** A record of one empty packet stamped {@code micros}. */
    private static TimestampMerge.Entry at(long micros) {
        return new TimestampMerge.Entry(micros, new ExportPacket[] {packet(micros, 0)}, 0);
    }

    private static ExportPacket packet(long micros, int length) {
        return new ExportPacket(micros, true, new byte[length], 0, length, length, 0);
    }

    /** A record of packets of {@code length} bytes each, stamped with the first. */
    private static TimestampMerge.Entry record(int length, long... micros) {
        ExportPacket[] packets = new ExportPacket[micros.length];
        for (int i = 0; i < micros.length; i++) {
            packets[i] = packet(micros[i], length);
        }
        return new TimestampMerge.Entry(micros[0], packets, (long) length * micros.length);
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
        // Partition 2 has delivered nothing yet: its first record could be the earliest of all.
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
    void aPartitionIsFullByRecordsOrByPacketBytesWhicheverComesFirst() {
        TimestampMerge m = new TimestampMerge(2, 10, 1000);
        m.add(0, record(300, 1, 2));
        assertThat(m.full(0)).isFalse();
        m.add(0, record(300, 3, 4));
        // Two records of two 300-byte packets hold 1200 bytes: a record's size is its packets', not one unit.
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
        assertThat(drain(m)).containsExactly(1L, 1L, 2L, 3L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(m.full(0)).isFalse();
    }
}
