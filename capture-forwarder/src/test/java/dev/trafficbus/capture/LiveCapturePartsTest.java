package dev.trafficbus.capture;

import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces of a live capture that need no interface: the filter, the hand-off bounds, sizes, sequence numbers. */
class LiveCapturePartsTest {

    @Test
    void filterTakesBothDirectionsOfEveryPortExcludesTheBrokersAndAndsTheUserPart() {
        assertThat(CaptureFilter.build(new LinkedHashSet<>(List.of(8080, 8443)), false, "127.0.0.1:9092,[::1]:9093", null))
                .isEqualTo("tcp and (port 8080 or port 8443) and not (host 127.0.0.1 and port 9092)"
                        + " and not (host 0:0:0:0:0:0:0:1 and port 9093)");
        assertThat(CaptureFilter.build(Set.of(80), true, "127.0.0.1:9092", " net 10.0.0.0/8 or host 1.2.3.4 "))
                .isEqualTo("tcp and (dst port 80) and not (host 127.0.0.1 and port 9092)"
                        + " and (net 10.0.0.0/8 or host 1.2.3.4)");
    }

    @Test
    void ringRefusesPastItsByteBoundAndTakesAgainOnceBytesAreReleased() {
        PendingRing ring = new PendingRing(1024, 1000);
        byte[] key = new byte[40];
        int accepted = 0;
        while (ring.offer(key, new byte[60], accepted, 0)) {
            accepted++;
        }
        assertThat(accepted).isEqualTo(10);
        assertThat(ring.pendingBytes()).isEqualTo(1000);
        List<Long> times = new ArrayList<>();
        assertThat(ring.drain((k, v, t, f) -> times.add(t), 3)).isEqualTo(3);
        assertThat(times).containsExactly(0L, 1L, 2L);
        // Taken by the sender is not yet acknowledged: the bytes still count.
        assertThat(ring.offer(key, new byte[60], 99, 0)).isFalse();
        ring.release(100);
        assertThat(ring.offer(key, new byte[60], 10, 0)).isTrue();
        assertThat(ring.queued()).isEqualTo(8);
        assertThat(ring.discard()).isEqualTo(8);
        assertThat(ring.pendingBytes()).isEqualTo(200); // the 2 still with the sender
        assertThat(ring.isEmpty()).isTrue();
    }

    @Test
    void ringRefusesWhenEverySlotIsTaken() {
        PendingRing ring = new PendingRing(4, Long.MAX_VALUE);
        for (int i = 0; i < 4; i++) {
            assertThat(ring.offer(new byte[1], new byte[1], i, 0)).isTrue();
        }
        assertThat(ring.offer(new byte[1], new byte[1], 4, 0)).isFalse();
        assertThat(ring.drain((k, v, t, f) -> { }, 1)).isEqualTo(1);
        // The TCP flags travel with the packet, for the sender's batching (SYN, FIN, RST).
        assertThat(ring.offer(new byte[1], new byte[1], 5, dev.trafficbus.packet.PacketView.FIN | 0x90)).isTrue();
        List<Integer> flags = new ArrayList<>();
        assertThat(ring.drain((k, v, t, f) -> flags.add(f), 4)).isEqualTo(4);
        assertThat(flags).containsExactly(0, 0, 0, 0x91);
    }

    @Test
    void sizes() {
        assertThat(ByteSize.parse("--x", "256MB")).isEqualTo(256L << 20);
        assertThat(ByteSize.parse("--x", "64kb")).isEqualTo(64L << 10);
        assertThat(ByteSize.parse("--x", "1GiB")).isEqualTo(1L << 30);
        assertThat(ByteSize.parse("--x", "65536")).isEqualTo(65536);
        assertThat(ByteSize.parse("--x", "512B")).isEqualTo(512);
        assertThatThrownBy(() -> ByteSize.parse("--x", "12XB")).isInstanceOf(UserInputException.class);
    }

    @Test
    void aLaterRunNumbersAboveAnEarlierOneThatCountedFast() {
        long start = 1_790_000_000_000L;
        long earlier = SequenceNumbers.runBase(start);
        // A run that captured for 1 s at 10 million packets per second, restarted right after.
        long lastOfEarlier = earlier + 10_000_000L;
        long later = SequenceNumbers.runBase(start + 1000);
        assertThat(later).isGreaterThan(lastOfEarlier);
        assertThat(SequenceNumbers.runStartMillis(later)).isEqualTo(start + 1000);
        // Positive for runs that start before 2109.
        long lastMillis = (1L << 42) - 1;
        assertThat(java.time.Instant.ofEpochMilli(lastMillis).toString()).startsWith("2109-");
        assertThat(SequenceNumbers.runBase(lastMillis) + (1 << SequenceNumbers.COUNTER_BITS) - 1).isPositive();
    }
}
