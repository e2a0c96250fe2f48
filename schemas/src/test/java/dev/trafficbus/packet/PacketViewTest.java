package dev.trafficbus.packet;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class PacketViewTest {
    private static final int[] CLIENT = {10, 0, 0, 2};
    private static final int[] SERVER = {10, 0, 0, 1};
    private final PacketView view = new PacketView();

    @Test
    void readsIpv4TcpFieldsAndPayload() {
        byte[] payload = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] p = TestPackets.ipv4(CLIENT, 51000, SERVER, 80, 0xFFFFFFF0L, 7, PacketView.ACK | PacketView.PSH,
                new byte[0], payload);
        assertThat(view.wrap(p, 0, p.length)).isEqualTo(PacketStatus.TCP);
        assertThat(view.ipVersion()).isEqualTo(4);
        assertThat(view.srcPort()).isEqualTo(51000);
        assertThat(view.dstPort()).isEqualTo(80);
        assertThat(view.seq()).isEqualTo(0xFFFFFFF0L);
        assertThat(view.ackNumber()).isEqualTo(7);
        assertThat(view.hasFlag(PacketView.PSH)).isTrue();
        assertThat(view.hasFlag(PacketView.SYN)).isFalse();
        assertThat(view.payloadLength()).isEqualTo(payload.length);
        assertThat(Arrays.copyOfRange(p, view.payloadOffset(), view.payloadOffset() + view.payloadLength()))
                .isEqualTo(payload);
        assertThat(Arrays.copyOfRange(p, view.srcAddressOffset(), view.srcAddressOffset() + 4))
                .containsExactly(10, 0, 0, 2);
    }

    @Test
    void readsSynOptions() {
        byte[] options = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7};
        byte[] p = TestPackets.ipv4(CLIENT, 51000, SERVER, 80, 100, 0, PacketView.SYN, options, new byte[0]);
        assertThat(view.wrap(p, 0, p.length)).isEqualTo(PacketStatus.TCP);
        assertThat(view.mssOption()).isEqualTo(1460);
        assertThat(view.sackPermittedOption()).isTrue();
        assertThat(view.timestampValue()).isEqualTo(9);
        assertThat(view.timestampEcho()).isEqualTo(0);
        assertThat(view.windowScaleOption()).isEqualTo(7);
        assertThat(view.tcpHeaderLength()).isEqualTo(40);
    }

    @Test
    void malformedOptionIsIgnoredNotThrown() {
        byte[] options = {2, 40, 0, 0}; // MSS claiming 40 bytes inside a 4-byte option area
        byte[] p = TestPackets.ipv4(CLIENT, 1, SERVER, 80, 1, 0, PacketView.SYN, options, new byte[0]);
        assertThat(view.wrap(p, 0, p.length)).isEqualTo(PacketStatus.TCP);
        assertThat(view.mssOption()).isEqualTo(-1);
    }

    @Test
    void ignoresLinkLayerPaddingAfterTheIpPacket() {
        byte[] p = TestPackets.ipv4(CLIENT, 51000, SERVER, 80, 1, 1, PacketView.ACK, new byte[0], new byte[0]);
        byte[] padded = Arrays.copyOf(p, p.length + 6);
        assertThat(view.wrap(padded, 0, padded.length)).isEqualTo(PacketStatus.TCP);
        assertThat(view.ipLength()).isEqualTo(40);
        assertThat(view.payloadLength()).isZero();
    }

    @Test
    void readsIpv6WithAndWithoutExtensionHeader() {
        byte[] src = new byte[16];
        byte[] dst = new byte[16];
        src[15] = 2;
        dst[15] = 1;
        byte[] payload = {1, 2, 3};
        for (boolean hop : new boolean[] {false, true}) {
            byte[] p = TestPackets.ipv6(src, 40000, dst, 443, 5, 6, PacketView.ACK, payload, hop);
            assertThat(view.wrap(p, 0, p.length)).isEqualTo(PacketStatus.TCP);
            assertThat(view.ipVersion()).isEqualTo(6);
            assertThat(view.addressLength()).isEqualTo(16);
            assertThat(view.dstPort()).isEqualTo(443);
            assertThat(view.payloadLength()).isEqualTo(3);
            assertThat(p[view.srcAddressOffset() + 15]).isEqualTo((byte) 2);
        }
    }

    @Test
    void classifiesWhatIsNotAWholeTcpSegment() {
        byte[] p = TestPackets.ipv4(CLIENT, 51000, SERVER, 80, 1, 1, PacketView.ACK, new byte[0], new byte[100]);

        byte[] udp = p.clone();
        udp[9] = 17;
        assertThat(view.wrap(udp, 0, udp.length)).isEqualTo(PacketStatus.NOT_TCP);

        byte[] frag = p.clone();
        frag[6] = 0x20; // more fragments
        assertThat(view.wrap(frag, 0, frag.length)).isEqualTo(PacketStatus.FRAGMENT);

        assertThat(view.wrap(p, 0, 60, p.length)).isEqualTo(PacketStatus.TRUNCATED);
        assertThat(view.wrap(p, 0, 10, p.length)).isEqualTo(PacketStatus.TRUNCATED);

        byte[] notIp = p.clone();
        notIp[0] = 0x25;
        assertThat(view.wrap(notIp, 0, notIp.length)).isEqualTo(PacketStatus.NOT_IP);

        byte[] badIhl = p.clone();
        badIhl[0] = 0x44;
        assertThat(view.wrap(badIhl, 0, badIhl.length)).isEqualTo(PacketStatus.MALFORMED);

        byte[] badTotal = p.clone();
        badTotal[2] = 0;
        badTotal[3] = 30; // shorter than IP + TCP headers
        assertThat(view.wrap(badTotal, 0, badTotal.length)).isEqualTo(PacketStatus.MALFORMED);

        byte[] badDataOffset = p.clone();
        badDataOffset[20 + 12] = (byte) 0x30; // 12 bytes: below the minimum
        assertThat(view.wrap(badDataOffset, 0, badDataOffset.length)).isEqualTo(PacketStatus.MALFORMED);

        assertThat(view.wrap(new byte[0], 0, 0)).isEqualTo(PacketStatus.TRUNCATED);
    }

    @Test
    void ipv6FragmentHeaderIsAFragment() {
        byte[] p = TestPackets.ipv6(new byte[16], 1, new byte[16], 2, 0, 0, PacketView.ACK, new byte[0], false);
        p[6] = 44;
        assertThat(view.wrap(p, 0, p.length)).isEqualTo(PacketStatus.FRAGMENT);
    }

    @Test
    void offloadedIpv4WithZeroLengthUsesTheCapturedLength() {
        byte[] p = TestPackets.ipv4(CLIENT, 51000, SERVER, 80, 1, 1, PacketView.ACK, new byte[0], new byte[3000]);
        p[2] = 0;
        p[3] = 0;
        assertThat(view.wrap(p, 0, p.length)).isEqualTo(PacketStatus.TCP);
        assertThat(view.payloadLength()).isEqualTo(3000);
    }
}
