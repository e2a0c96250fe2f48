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
        // Each packet counts its key, its bytes and the ring's 14-byte header, in 8s: 120 bytes, 8 of them in 1000.
        try (PendingRing ring = new PendingRing(1000)) {
            byte[] key = new byte[40];
            int accepted = 0;
            while (ring.offer(key, new byte[60], 60, accepted, 0)) {
                accepted++;
            }
            assertThat(accepted).isEqualTo(8);
            assertThat(ring.pendingBytes()).isEqualTo(8 * 120);
            List<Long> times = new ArrayList<>();
            assertThat(ring.drain((k, kl, v, vl, t, f) -> times.add(t), 3)).isEqualTo(3);
            assertThat(times).containsExactly(0L, 1L, 2L);
            // Taken by the sender is not yet acknowledged: the bytes still count.
            assertThat(ring.offer(key, new byte[60], 60, 99, 0)).isFalse();
            ring.release(120);
            assertThat(ring.offer(key, new byte[60], 60, 10, 0)).isTrue();
            assertThat(ring.queued()).isEqualTo(6);
            assertThat(ring.discard()).isEqualTo(6);
            assertThat(ring.pendingBytes()).isEqualTo(2 * 120); // the 2 still with the sender
            assertThat(ring.isEmpty()).isTrue();
        }
    }

    @Test
    void ringKeepsOrderAndContentAcrossLapsAndRefusesWhenItsRegionIsFull() {
        try (PendingRing ring = new PendingRing(1000)) {
            List<String> seen = new ArrayList<>();
            PendingRing.Sink sink = (k, kl, v, vl, t, f) -> {
                seen.add(new String(k, 0, kl) + "/" + new String(v, 0, vl) + "/" + t + "/" + f);
                ring.release(PendingRing.cost(kl, vl));
            };
            // The capture thread encodes every packet into one array larger than the packet: only the length given
            // is queued.
            byte[] encoded = new byte[256];
            // Many laps, never caught up: entries that do not fit before the region's end go to its beginning.
            long next = 0;
            long expected = 0;
            for (int round = 0; round < 200; round++) {
                while (ring.offer(("k" + next).getBytes(), encoded, encodeInto(encoded, next), next, (int) (next & 0xFF))) {
                    next++;
                }
                seen.clear();
                ring.drain(sink, 3);
                for (String s : seen) {
                    String[] parts = s.split("/");
                    assertThat(parts[0]).isEqualTo("k" + expected);
                    assertThat(parts[1]).startsWith("value-" + expected + "-").hasSize(("value-" + expected + "-").length()
                            + (int) (expected % 97));
                    assertThat(parts[2]).isEqualTo("" + expected);
                    assertThat(parts[3]).isEqualTo("" + (expected & 0xFF));
                    expected++;
                }
            }
            assertThat(next).isGreaterThan(500);
            // A packet larger than the region never fits; the TCP flags travel with the packet (SYN, FIN, RST).
            assertThat(ring.offer(new byte[1], new byte[2000], 2000, 0, 0)).isFalse();
            ring.drain(sink, Integer.MAX_VALUE);
            assertThat(ring.isEmpty()).isTrue();
            assertThat(ring.pendingBytes()).isZero();
        }
    }

    /** Writes packet {@code n}'s test value at the start of {@code encoded}, the rest of it filler; returns its length. */
    private static int encodeInto(byte[] encoded, long n) {
        byte[] value = ("value-" + n + "-" + "x".repeat((int) (n % 97))).getBytes();
        java.util.Arrays.fill(encoded, (byte) '#');
        System.arraycopy(value, 0, encoded, 0, value.length);
        return value.length;
    }

    @Test
    void ringNeverRefusesWhileItsRegionHasRoomWhateverTheReaderKeepsUpWith() {
        java.util.Random random = new java.util.Random(14);
        try (PendingRing ring = new PendingRing(10_000)) {
            PendingRing.Sink sink = (k, kl, v, vl, t, f) -> ring.release(PendingRing.cost(kl, vl));
            for (int i = 0; i < 200_000; i++) {
                int size = 20 + random.nextInt(380);
                long before = ring.pendingBytes();
                boolean accepted = ring.offer(new byte[13], new byte[size], size, i, 0);
                // Room for the entry and for the most a wrap leaves unused at the region's end and a skip past a
                // rewind's marker in the middle (an entry each).
                if (before + PendingRing.cost(13, size) + 2 * PendingRing.cost(13, 400) <= 10_000) {
                    assertThat(accepted).as("offer %d of %d bytes with %d pending", i, size, before).isTrue();
                }
                if (random.nextInt(4) == 0) {
                    ring.drain(sink, random.nextInt(3) == 0 ? Integer.MAX_VALUE : random.nextInt(20));
                }
            }
        }
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
