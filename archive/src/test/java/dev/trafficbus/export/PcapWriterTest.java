package dev.trafficbus.export;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The file format details on hand-built packets (the round trip through Kafka is ExportRoundTripTest). */
class PcapWriterTest {
    @TempDir
    Path temp;

    @Test
    void fileHeaderIsClassicMicrosecondPcapOfEthernet() throws Exception {
        Path file = temp.resolve("empty.pcap");
        try (OutputStream os = Files.newOutputStream(file); PcapWriter w = new PcapWriter(os)) {
            assertThat(w.bytes()).isEqualTo(24);
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.limit()).isEqualTo(24);
        assertThat(b.getInt(0)).isEqualTo(0xa1b2c3d4);
        assertThat(b.getShort(4)).isEqualTo((short) 2);
        assertThat(b.getShort(6)).isEqualTo((short) 4);
        assertThat(b.getInt(16)).isEqualTo(PcapWriter.SNAPLEN);
        assertThat(b.getInt(20)).isEqualTo(1);
    }

    @Test
    void aPacketLongerThanTheSnapshotLengthIsCutToItAndKeepsItsLengthOnTheWire() throws Exception {
        // An IPv6 jumbogram (RFC 2675) can exceed the pcap snapshot length; libpcap refuses a record whose
        // captured length is larger, which would make the whole file unreadable from that record on.
        byte[] jumbo = new byte[300_000];
        jumbo[0] = 0x60;
        Arrays.fill(jumbo, 1, jumbo.length, (byte) 0x5A);
        byte[] small = new byte[40];
        small[0] = 0x45;
        Path file = temp.resolve("jumbo.pcap");
        try (OutputStream os = Files.newOutputStream(file); PcapWriter w = new PcapWriter(os)) {
            w.write(1_000_000L, true, jumbo, 0, jumbo.length, jumbo.length);
            w.write(2_000_001L, false, small, 0, small.length, small.length);
            assertThat(w.packets()).isEqualTo(2);
        }
        assertThat(Files.size(file)).isEqualTo(24 + 16 + PcapWriter.SNAPLEN + 16 + 14 + 40);

        List<PcapFiles.Frame> frames = PcapFiles.read(file);
        assertThat(frames).hasSize(2);
        PcapFiles.Frame first = frames.get(0);
        assertThat(first.etherType()).isEqualTo(0x86DD);
        assertThat(first.ip()).isEqualTo(Arrays.copyOf(jumbo, PcapWriter.SNAPLEN - 14));
        assertThat(first.wireLength()).isEqualTo(jumbo.length);
        assertThat(first.micros()).isEqualTo(1_000_000L);
        assertThat(frames.get(1).ip()).isEqualTo(small);
        assertThat(frames.get(1).etherType()).isEqualTo(0x0800);
        assertThat(frames.get(1).micros()).isEqualTo(2_000_001L);
        // Client to server: the source MAC is the client side's.
        assertThat(first.srcMac()).isEqualTo(PcapWriter.CLIENT_MAC);
        assertThat(frames.get(1).srcMac()).isEqualTo(PcapWriter.SERVER_MAC);
    }
}
