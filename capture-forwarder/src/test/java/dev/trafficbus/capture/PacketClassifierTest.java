package dev.trafficbus.capture;

import dev.trafficbus.packet.LinkLayer;

import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PacketClassifierTest {

    @Test
    void everyFixtureClassifiesAsTcpdumpCountsIt() throws Exception {
        for (Fixtures.Expected e : Fixtures.ALL) {
            Map<SkipReason, Integer> skipped = new EnumMap<>(SkipReason.class);
            int published = 0;
            int clientToServer = 0;
            PacketClassifier c = new PacketClassifier(LinkLayer.forDlt(Fixtures.dlt(e.file())), Set.of(8080));
            for (Fixtures.Frame f : Fixtures.frames(e.file())) {
                SkipReason r = c.classify(f.bytes(), f.bytes().length, f.wireLength());
                if (r == null) {
                    published++;
                    assertThat(c.clientToServer()).isEqualTo(c.view().dstPort() == 8080);
                    assertThat(c.clientToServer() ? c.view().dstPort() : c.view().srcPort()).isEqualTo(8080);
                    clientToServer += c.clientToServer() ? 1 : 0;
                } else {
                    skipped.merge(r, 1, Integer::sum);
                }
            }
            assertThat(published).as(e.file() + " published").isEqualTo(e.published());
            assertThat(clientToServer).as(e.file() + " client to server").isBetween(1, published - 1);
            assertThat(skipped.getOrDefault(SkipReason.NOT_PORT, 0)).as(e.file() + " not-port").isEqualTo(e.notPort());
            assertThat(skipped.getOrDefault(SkipReason.NOT_TCP, 0)).as(e.file() + " not-tcp").isEqualTo(e.notTcp());
            assertThat(skipped.getOrDefault(SkipReason.NOT_IP, 0)).as(e.file() + " not-ip").isEqualTo(e.notIp());
            assertThat(skipped.getOrDefault(SkipReason.IP_FRAGMENT, 0)).as(e.file() + " ip-fragment").isEqualTo(e.fragments());
            assertThat(skipped.getOrDefault(SkipReason.TRUNCATED, 0)).as(e.file() + " truncated").isEqualTo(e.truncated());
            assertThat(skipped.getOrDefault(SkipReason.MALFORMED, 0)).as(e.file() + " malformed").isZero();
        }
    }

    @Test
    void publishedPacketsLeaveEthernetPaddingOut() throws Exception {
        // Pure ACKs are 54-byte frames that Ethernet pads; veth does not pad, so pad one by hand.
        List<Fixtures.Frame> frames = Fixtures.frames("ethernet.pcap");
        PacketClassifier c = new PacketClassifier(LinkLayer.ETHERNET, Set.of(8080));
        for (Fixtures.Frame f : frames) {
            if (c.classify(f.bytes(), f.bytes().length, f.wireLength()) == null && c.view().payloadLength() == 0
                    && c.view().ipVersion() == 4) {
                int ipLength = c.view().ipLength();
                byte[] padded = java.util.Arrays.copyOf(f.bytes(), Math.max(60, f.bytes().length + 6));
                assertThat(c.classify(padded, padded.length, padded.length)).isNull();
                assertThat(c.view().ipLength()).isEqualTo(ipLength);
                return;
            }
        }
        throw new AssertionError("ethernet.pcap has no IPv4 ACK of port 8080");
    }

    @Test
    void whenBothPortsAreServicePortsTheDestinationDecides() {
        byte[] p = ipv4Tcp(8080, 80);
        PacketClassifier c = new PacketClassifier(LinkLayer.RAW_IP, Set.of(80, 8080));
        assertThat(c.classify(p, p.length, p.length)).isNull();
        assertThat(c.clientToServer()).isTrue();
        PacketClassifier onlySource = new PacketClassifier(LinkLayer.RAW_IP, Set.of(8080));
        assertThat(onlySource.classify(p, p.length, p.length)).isNull();
        assertThat(onlySource.clientToServer()).isFalse();
        PacketClassifier neither = new PacketClassifier(LinkLayer.RAW_IP, Set.of(443));
        assertThat(neither.classify(p, p.length, p.length)).isEqualTo(SkipReason.NOT_PORT);
    }

    @Test
    void contradictoryHeadersAreMalformedAndCutOnesTruncated() {
        PacketClassifier c = new PacketClassifier(LinkLayer.RAW_IP, Set.of(80));
        byte[] badIhl = ipv4Tcp(1234, 80);
        badIhl[0] = 0x44; // IHL 16 bytes: less than the minimum
        assertThat(c.classify(badIhl, badIhl.length, badIhl.length)).isEqualTo(SkipReason.MALFORMED);
        byte[] cut = ipv4Tcp(1234, 80);
        assertThat(c.classify(cut, 30, cut.length)).isEqualTo(SkipReason.TRUNCATED);
        byte[] notIp = ipv4Tcp(1234, 80);
        notIp[0] = 0x25;
        assertThat(c.classify(notIp, notIp.length, notIp.length)).isEqualTo(SkipReason.NOT_IP);
        byte[] udp = ipv4Tcp(1234, 80);
        udp[9] = 17;
        assertThat(c.classify(udp, udp.length, udp.length)).isEqualTo(SkipReason.NOT_TCP);
        byte[] fragment = ipv4Tcp(1234, 80);
        fragment[6] = 0x20; // more fragments
        assertThat(c.classify(fragment, fragment.length, fragment.length)).isEqualTo(SkipReason.IP_FRAGMENT);
    }

    @Test
    void portsOutsideTheTcpRangeAreRefused() {
        assertThatThrownBy(() -> new PacketClassifier(LinkLayer.RAW_IP, Set.of(0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port 0");
        assertThatThrownBy(() -> new PacketClassifier(LinkLayer.RAW_IP, Set.of(65536)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A 40-byte IPv4/TCP packet 10.0.0.2:src -> 10.0.0.1:dst (checksums are not looked at). */
    static byte[] ipv4Tcp(int srcPort, int dstPort) {
        byte[] p = new byte[40];
        p[0] = 0x45;
        p[3] = 40;
        p[8] = 64;
        p[9] = 6;
        p[12] = 10; p[15] = 2;
        p[16] = 10; p[19] = 1;
        p[20] = (byte) (srcPort >>> 8); p[21] = (byte) srcPort;
        p[22] = (byte) (dstPort >>> 8); p[23] = (byte) dstPort;
        p[32] = 0x50; // data offset 5 words
        p[33] = 0x10; // ACK
        return p;
    }
}
