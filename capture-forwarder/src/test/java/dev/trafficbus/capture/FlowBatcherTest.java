package dev.trafficbus.capture;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.packet.PacketView;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which packets end up together in one record, and when a record is let go. */
class FlowBatcherTest {
    private static final int SYN = PacketView.SYN;
    private static final int SYN_ACK = PacketView.SYN | PacketView.ACK;
    private static final int ACK = PacketView.ACK;
    private static final int FIN_ACK = PacketView.FIN | PacketView.ACK;
    private static final int RST = PacketView.RST;

    /** One emitted record, decoded: its key, the sequences of its packets, its time and pending bytes. */
    record Emitted(String key, List<Long> sequences, long firstMicros, int packets, long pendingBytes) {
    }

    private final List<Emitted> emitted = new ArrayList<>();
    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final byte[] keyArray = new byte[255];
    private byte[] packetArray = new byte[2048];

    private FlowBatcher batcher(Duration window, int maxPackets, int maxBytes) {
        return new FlowBatcher(window, maxPackets, maxBytes, (key, value, firstMicros, packets, pending) -> {
            List<Long> sequences = new ArrayList<>();
            reader.read(value);
            do {
                sequences.add(reader.sequence());
            } while (reader.advance());
            assertThat(sequences).hasSize(packets);
            emitted.add(new Emitted(new String(key), sequences, firstMicros, packets, pending));
        });
    }

    /** A fresh key array each time: the batcher must match flows by content. */
    private static byte[] key(String flow) {
        return flow.getBytes();
    }

    private static byte[] packet(long sequence, int payloadBytes) {
        return CapturedPacketCodec.encodePacket(1000 + sequence, Direction.CLIENT_TO_SERVER, new byte[payloadBytes], 0,
                payloadBytes, payloadBytes, sequence);
    }

    private void add(FlowBatcher b, String flow, long sequence, int flags, long micros) {
        add(b, flow, packet(sequence, 40), flags, micros, 10);
    }

    /**
     * Hands the batcher the key and the packet at the start of arrays reused for every packet and longer than
     * either, as the pending ring does: it must copy exactly the lengths it is given.
     */
    private void add(FlowBatcher b, String flow, byte[] packet, int flags, long micros, long pendingBytes) {
        byte[] key = key(flow);
        if (packet.length > packetArray.length) {
            packetArray = new byte[packet.length + 64];
        }
        java.util.Arrays.fill(keyArray, (byte) '#');
        java.util.Arrays.fill(packetArray, (byte) '#');
        System.arraycopy(key, 0, keyArray, 0, key.length);
        System.arraycopy(packet, 0, packetArray, 0, packet.length);
        b.add(keyArray, key.length, packetArray, packet.length, flags, micros, pendingBytes);
    }

    @Test
    void aClientSynStartsANewRecordAndRstEndsOne() {
        FlowBatcher b = batcher(Duration.ofSeconds(1), 64, FlowBatcher.MAX_VALUE_BYTES);
        add(b, "a", 1, SYN, 0);
        add(b, "a", 2, SYN_ACK, 1);
        add(b, "a", 3, ACK, 2);
        add(b, "a", 4, ACK, 3);
        add(b, "a", 5, FIN_ACK, 4); // a FIN does not end the record: the peer's FIN and the last ACK belong in it
        add(b, "a", 6, FIN_ACK, 5);
        add(b, "a", 7, ACK, 6);
        assertThat(emitted).isEmpty();

        // Same addresses and ports again: a new connection's SYN ends the old connection's record.
        add(b, "a", 8, SYN, 11);
        assertThat(emitted).containsExactly(new Emitted("a", List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), 0, 7, 70));
        add(b, "a", 9, SYN_ACK, 12);
        add(b, "a", 10, RST, 13); // the RST is the last packet of its record
        assertThat(emitted).hasSize(2);
        assertThat(emitted.get(1)).isEqualTo(new Emitted("a", List.of(8L, 9L, 10L), 11, 3, 30));
        add(b, "a", 11, ACK, 14);
        add(b, "a", 12, SYN, 15);
        assertThat(emitted).hasSize(3);
        assertThat(emitted.get(2).sequences()).containsExactly(11L);
        add(b, "a", 13, RST, 16);
        assertThat(emitted.get(3).sequences()).containsExactly(12L, 13L);
        // A SYN-ACK does not split: only a SYN without ACK starts a connection.
        add(b, "a", 14, ACK, 20);
        add(b, "a", 15, SYN_ACK, 21);
        b.flushAll();
        assertThat(emitted.get(4).sequences()).containsExactly(14L, 15L);
        assertThat(b.openBatches()).isZero();
    }

    @Test
    void aRecordEndsAtTheMostPacketsAndOnePacketPerRecordIsTheOldFormat() {
        FlowBatcher b = batcher(Duration.ofSeconds(1), 4, FlowBatcher.MAX_VALUE_BYTES);
        for (int i = 0; i < 10; i++) {
            add(b, "a", i, ACK, i);
        }
        assertThat(emitted).extracting(Emitted::packets).containsExactly(4, 4);
        b.flushAll();
        assertThat(emitted).extracting(Emitted::sequences).containsExactly(
                List.of(0L, 1L, 2L, 3L), List.of(4L, 5L, 6L, 7L), List.of(8L, 9L));
        assertThat(emitted).extracting(Emitted::firstMicros).containsExactly(0L, 4L, 8L);

        emitted.clear();
        FlowBatcher single = batcher(Duration.ofSeconds(1), 1, FlowBatcher.MAX_VALUE_BYTES);
        for (int i = 0; i < 3; i++) {
            add(single, "a", i, ACK, i);
        }
        assertThat(emitted).extracting(Emitted::packets).containsExactly(1, 1, 1);
        assertThat(single.openBatches()).isZero();
    }

    @Test
    void aRecordStaysUnderTheByteBoundAndAHugePacketGoesAlone() {
        int max = 1000;
        FlowBatcher b = batcher(Duration.ofSeconds(1), 64, max);
        int encoded = packet(0, 290).length;
        for (int i = 0; i < 7; i++) {
            add(b, "a", packet(i, 290), ACK, i, encoded);
        }
        add(b, "a", packet(7, 5000), ACK, 7, 5000);
        add(b, "a", packet(8, 290), ACK, 8, encoded);
        b.flushAll();
        // 3 packets of about 300 bytes fit in 1000; the 5000-byte one is a record of its own.
        assertThat(emitted).extracting(Emitted::sequences).containsExactly(List.of(0L, 1L, 2L), List.of(3L, 4L, 5L),
                List.of(6L), List.of(7L), List.of(8L));
        CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();
        for (int i = 0; i < 3; i++) {
            builder.add(packet(i, 290));
        }
        assertThat(builder.valueSize()).isLessThanOrEqualTo(max);
        assertThat(builder.add(packet(3, 290)).valueSize()).isGreaterThan(max);
    }

    @Test
    void aRecordIsLetGoOnceOlderThanTheWindowInCaptureTime() {
        FlowBatcher b = batcher(Duration.ofMillis(5), 64, FlowBatcher.MAX_VALUE_BYTES);
        b.advanceTo(1_000_000);
        add(b, "a", 1, ACK, 1_000_000);
        b.advanceTo(1_003_000);
        add(b, "b", 2, ACK, 1_003_000);
        add(b, "a", 3, ACK, 1_003_000);
        b.advanceTo(1_004_999);
        assertThat(emitted).isEmpty();
        b.advanceTo(1_005_000);
        assertThat(emitted).containsExactly(new Emitted("a", List.of(1L, 3L), 1_000_000, 2, 20));
        // The next packet of "a" opens a new record; "b" goes at its own time.
        add(b, "a", 4, ACK, 1_005_000);
        b.advanceTo(1_007_999);
        assertThat(emitted).hasSize(1);
        b.advanceTo(1_008_000);
        assertThat(emitted).extracting(Emitted::key).containsExactly("a", "b");
        b.advanceTo(1_010_000);
        assertThat(emitted).extracting(Emitted::sequences).containsExactly(List.of(1L, 3L), List.of(2L), List.of(4L));
        assertThat(b.openBatches()).isZero();
    }

    @Test
    void aRecordIsLetGoOnceOlderThanTheWindowInWallTime() throws Exception {
        // The live sender's clock: the batcher only sees the times it is given, here System.nanoTime.
        Duration window = Duration.ofMillis(20);
        FlowBatcher b = batcher(window, 64, FlowBatcher.MAX_VALUE_BYTES);
        long start = System.nanoTime();
        b.advanceTo(start / 1000);
        add(b, "a", 1, ACK, 0);
        add(b, "a", 2, ACK, 0);
        long deadline = start + Duration.ofSeconds(10).toNanos();
        long now;
        do {
            Thread.sleep(1);
            now = System.nanoTime();
            b.advanceTo(now / 1000);
            if (emitted.isEmpty()) {
                assertThat(now).as("let go within 10 s").isLessThan(deadline);
            }
        } while (emitted.isEmpty());
        assertThat(Duration.ofNanos(now - start)).isGreaterThanOrEqualTo(window);
        assertThat(emitted.get(0).sequences()).containsExactly(1L, 2L);
    }

    @Test
    void aZeroWindowPublishesEachPacketAlone() {
        FlowBatcher b = batcher(Duration.ZERO, 64, FlowBatcher.MAX_VALUE_BYTES);
        add(b, "a", 1, ACK, 5);
        add(b, "a", 2, ACK, 5);
        assertThat(emitted).extracting(Emitted::packets).containsExactly(1, 1);
        assertThat(b.openBatches()).isZero();
    }

    @Test
    void flowsInterleavedKeepTheirOwnOrderAndFlushAllGoesOldestFirst() {
        FlowBatcher b = batcher(Duration.ofSeconds(10), 3, FlowBatcher.MAX_VALUE_BYTES);
        int flows = 5000; // past several table growths, with removals in between
        long seq = 0;
        for (int round = 0; round < 7; round++) {
            for (int f = 0; f < flows; f++) {
                add(b, "flow-" + f, seq++, ACK, seq);
            }
        }
        assertThat(b.openBatches()).isEqualTo(flows);
        int before = emitted.size();
        b.flushAll();
        // Each flow's open record holds its 7th packet; they were opened in flow order.
        List<Emitted> flushed = emitted.subList(before, emitted.size());
        assertThat(flushed).hasSize(flows);
        for (int f = 0; f < flows; f++) {
            assertThat(flushed.get(f).key()).isEqualTo("flow-" + f);
        }
        Map<String, List<Long>> byFlow = new HashMap<>();
        for (Emitted e : emitted) {
            byFlow.computeIfAbsent(e.key(), k -> new ArrayList<>()).addAll(e.sequences());
        }
        assertThat(byFlow).hasSize(flows);
        assertThat(byFlow.values()).allSatisfy(s -> assertThat(s).hasSize(7).isSorted());
        assertThat(emitted.stream().mapToInt(Emitted::packets).sum()).isEqualTo(7 * flows);
        assertThat(b.openBatches()).isZero();
    }

    @Test
    void aBatchClosedEarlyIsNotLetGoAgainWhenItsWindowEnds() {
        FlowBatcher b = batcher(Duration.ofMillis(5), 2, FlowBatcher.MAX_VALUE_BYTES);
        b.advanceTo(0);
        for (int i = 0; i < 6; i++) {
            add(b, "a", i, ACK, i);
        }
        add(b, "b", 6, ACK, 6);
        b.advanceTo(100_000);
        b.flushAll();
        assertThat(emitted).extracting(Emitted::sequences).containsExactly(List.of(0L, 1L), List.of(2L, 3L),
                List.of(4L, 5L), List.of(6L));
    }

    @Test
    void optionsOutOfRangeAreUserErrorsNamingTheOption() {
        FlowBatcher.checkOptions(Duration.ZERO, 1);
        FlowBatcher.checkOptions(FlowBatcher.DEFAULT_WINDOW, FlowBatcher.DEFAULT_MAX_PACKETS);
        assertThatThrownBy(() -> FlowBatcher.checkOptions(Duration.ofMillis(-1), 64))
                .isInstanceOf(UserInputException.class).hasMessageStartingWith("--batch-window ");
        assertThatThrownBy(() -> FlowBatcher.checkOptions(Duration.ofMinutes(1), 64))
                .isInstanceOf(UserInputException.class).hasMessageStartingWith("--batch-window 60000ms is too long");
        assertThatThrownBy(() -> FlowBatcher.checkOptions(Duration.ofMillis(5), 0))
                .isInstanceOf(UserInputException.class).hasMessageStartingWith("--batch-max-packets 0 is out of range");
    }
}
