package dev.trafficbus.replay.intake;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.session.TestPackets;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CaptureRecordReaderTest {
    private static byte[] item(long ts, Direction d, byte[] ip, int capturedLength) {
        return CapturedPacketCodec.encodePacket(ts, d, ip, 0, capturedLength, ip.length, ts);
    }

    @Test
    void walksEveryPacketInOrderAndNamesWhyOneIsSkipped() {
        byte[] syn = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 80, 100, 0, PacketView.SYN, new byte[0]);
        byte[] udp = TestPackets.udp("10.0.0.2", 5353, "10.0.0.1", 53, new byte[4]);
        byte[] answer = TestPackets.tcp("10.0.0.1", 80, "10.0.0.2", 40000, 7, 101, PacketView.ACK, new byte[30]);
        byte[] value = new CapturedPacketCodec.Builder()
                .add(item(1, Direction.CLIENT_TO_SERVER, syn, syn.length))
                .add(item(2, Direction.CLIENT_TO_SERVER, udp, udp.length))
                .add(item(3, Direction.SERVER_TO_CLIENT, answer, 30)) // cut inside the TCP header by the snaplen
                .add(item(4, Direction.SERVER_TO_CLIENT, answer, answer.length))
                .build();
        CaptureRecordReader in = new CaptureRecordReader();
        assertThat(in.read(value)).isTrue();
        assertThat(in.packetCount()).isEqualTo(4);
        List<String> seen = new ArrayList<>();
        do {
            ReplayProblem skip = in.wrap();
            seen.add(in.timestampMicros() + ":" + (skip != null ? skip
                    : (in.clientToServer() ? "c" : "s") + in.view().srcPort() + "/" + in.view().payloadLength()));
        } while (in.advance());
        assertThat(seen).containsExactly("1:c40000/0", "2:not-tcp", "3:truncated-packet", "4:s80/30");
    }

    @Test
    void aValueThatDoesNotDecodeIsOneUndecodableRecord() {
        byte[] syn = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 80, 100, 0, PacketView.SYN, new byte[0]);
        byte[] good = CapturedPacketCodec.encode(1, Direction.CLIENT_TO_SERVER, syn, 0, syn.length, syn.length, 1);
        CaptureRecordReader in = new CaptureRecordReader();
        assertThat(in.read(Arrays.copyOf(good, good.length - 3))).isFalse();
        assertThat(in.read("not a record".getBytes())).isFalse();
        assertThat(in.read(good)).isTrue();
        assertThat(in.wrap()).isNull();
        assertThat(in.advance()).isFalse();
    }
}
