package dev.trafficbus.export;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReorderBufferTest {
    private long order;

    private ExportPacket[] packets(int length, long... micros) {
        ExportPacket[] out = new ExportPacket[micros.length];
        for (int i = 0; i < micros.length; i++) {
            out[i] = new ExportPacket(micros[i], true, new byte[length], 0, length, length, order++);
        }
        return out;
    }

    private static List<Long> ready(ReorderBuffer b) {
        List<Long> out = new ArrayList<>();
        for (ExportPacket p = b.pollReady(); p != null; p = b.pollReady()) {
            out.add(p.timestampMicros());
        }
        return out;
    }

    private static List<Long> rest(ReorderBuffer b) {
        List<Long> out = new ArrayList<>();
        for (ExportPacket p = b.pollAny(); p != null; p = b.pollAny()) {
            out.add(p.timestampMicros());
        }
        return out;
    }

    @Test
    void packetsOfOverlappingRecordsGoOutInCaptureTimeOnceOlderThanTheHorizon() {
        ReorderBuffer b = new ReorderBuffer(1_000, Long.MAX_VALUE);
        b.add(100, packets(10, 100, 400, 900));
        b.add(300, packets(10, 300, 350));
        assertThat(ready(b)).isEmpty();
        // A record stamped 1500 lets every packet before 500 go: later records are at most 1000 older than it.
        b.add(1500, packets(10, 1500));
        assertThat(ready(b)).containsExactly(100L, 300L, 350L, 400L);
        // A late record older than the latest one does not move the limit back, and fits in before 900.
        b.add(600, packets(10, 600, 650));
        assertThat(ready(b)).isEmpty();
        assertThat(rest(b)).containsExactly(600L, 650L, 900L, 1500L);
        assertThat(b.outOfOrder()).isZero();
        assertThat(b.isEmpty()).isTrue();
    }

    @Test
    void equalTimesKeepTheOrderTheyWereReadIn() {
        ReorderBuffer b = new ReorderBuffer(0, Long.MAX_VALUE);
        ExportPacket[] first = packets(1, 5, 5);
        ExportPacket[] second = packets(1, 5);
        b.add(5, second);
        b.add(5, first);
        assertThat(b.pollAny()).isSameAs(first[0]);
        assertThat(b.pollAny()).isSameAs(first[1]);
        assertThat(b.pollAny()).isSameAs(second[0]);
    }

    @Test
    void aPacketLaterThanTheHorizonIsReleasedAndCounted() {
        ReorderBuffer b = new ReorderBuffer(1_000, Long.MAX_VALUE);
        b.add(5_000, packets(10, 5_000, 5_100));
        b.add(9_000, packets(10, 9_000));
        assertThat(ready(b)).containsExactly(5_000L, 5_100L);
        // Four times the horizon late: its packets go out behind the ones already released, never dropped.
        b.add(1_000, packets(10, 1_000, 1_200));
        assertThat(ready(b)).containsExactly(1_000L, 1_200L);
        assertThat(rest(b)).containsExactly(9_000L);
        assertThat(b.outOfOrder()).isEqualTo(2);
    }

    @Test
    void pastTheByteLimitTheOldestGoOutWhateverTheHorizon() {
        ReorderBuffer b = new ReorderBuffer(Long.MAX_VALUE, 250);
        b.add(1, packets(100, 1, 2));
        assertThat(ready(b)).isEmpty();
        b.add(3, packets(100, 3));
        assertThat(ready(b)).containsExactly(1L);
        assertThat(rest(b)).containsExactly(2L, 3L);
    }
}
