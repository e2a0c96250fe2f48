package dev.trafficbus.capture;

import dev.trafficbus.packet.Encapsulation;
import dev.trafficbus.packet.LinkLayer;
import dev.trafficbus.packet.PacketView;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every real port-8080 TCP frame of ethernet.pcap wrapped in each tunnel cloud traffic mirroring uses: the
 * classifier reads the inner packet exactly as the unwrapped frame, in place, and names the tunnel.
 */
class DecapsulationTest {
    private static final Set<Integer> PORTS = Set.of(8080);

    @Test
    void mplsAndPppoeAtTheLinkLayer() throws Exception {
        assertInner(Encapsulation.MPLS, ip -> ethernet(0x8847, cat(new byte[] {0, 1, 0, 64}, new byte[] {0, 2, 1, 64}, ip)));
        assertInner(Encapsulation.PPPOE, ip -> ethernet(0x8864,
                cat(new byte[] {0x11, 0, 0, 7}, u16(ip.length + 2), u16(version(ip) == 4 ? 0x21 : 0x57), ip)));
    }

    @Test
    void greWithAndWithoutChecksumKeyAndSequence() throws Exception {
        assertInner(Encapsulation.GRE, ip -> outer(47, cat(u16(0), u16(etherType(ip)), ip)));
        assertInner(Encapsulation.GRE, ip -> outer(47, cat(u16(0xB000), u16(etherType(ip)), new byte[4],
                new byte[] {0, 0, 0, 77}, new byte[] {0, 0, 0, 9}, ip)));
        assertInner(Encapsulation.GRE, ip -> outer6(47, cat(u16(0x2000), u16(etherType(ip)), new byte[] {0, 0, 0, 77}, ip)));
        assertInner(Encapsulation.GRE, ip -> outer(47, cat(u16(0), u16(0x6558), innerEthernet(ip))));
    }

    @Test
    void erspanTypesOneTwoAndThree() throws Exception {
        assertInner(Encapsulation.ERSPAN, ip -> outer(47, cat(u16(0), u16(0x88BE), innerEthernet(ip))));
        assertInner(Encapsulation.ERSPAN, ip -> outer(47, cat(u16(0x1000), u16(0x88BE), new byte[] {0, 0, 0, 5},
                new byte[] {0x10, 0, 0, 1, 0, 0, 0, 0}, innerEthernet(ip))));
        byte[] type3 = {0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        assertInner(Encapsulation.ERSPAN, ip -> outer(47, cat(u16(0x1000), u16(0x22EB), new byte[4], type3,
                innerEthernet(ip))));
        byte[] type3WithSubheader = type3.clone();
        type3WithSubheader[11] = 1;
        assertInner(Encapsulation.ERSPAN, ip -> outer(47, cat(u16(0x1000), u16(0x22EB), new byte[4],
                type3WithSubheader, new byte[8], innerEthernet(ip))));
    }

    @Test
    void vxlanGeneveAndIpInIp() throws Exception {
        assertInner(Encapsulation.VXLAN, ip -> outer(17, udp(4789, cat(new byte[] {8, 0, 0, 0, 0, 0, 77, 0},
                innerEthernet(ip)))));
        assertInner(Encapsulation.GENEVE, ip -> outer(17, udp(6081, cat(new byte[] {2, 0, 0x65, 0x58, 0, 0, 77, 0},
                new byte[8], innerEthernet(ip)))));
        assertInner(Encapsulation.GENEVE, ip -> outer(17, udp(6081, cat(new byte[] {0, 0}, u16(etherType(ip)),
                new byte[4], ip))));
        assertInner(Encapsulation.IP_IN_IP, ip -> outer(4, ip), 4);
        assertInner(Encapsulation.IPV6_IN_IP, ip -> outer(41, ip), 6);
    }

    @Test
    void aTunnelOfNoIpOrCutInsideIsCountedSoAndPlainUdpStaysUdp() throws Exception {
        PacketClassifier classifier = new PacketClassifier(PORTS);
        byte[] arp = cat(new byte[12], u16(0x0806), new byte[28]);
        byte[] vxlanArp = outer(17, udp(4789, cat(new byte[8], arp)));
        assertThat(classifier.classify(LinkLayer.ETHERNET, vxlanArp, vxlanArp.length, vxlanArp.length))
                .isEqualTo(SkipReason.NOT_IP);
        byte[] ip = servicePackets(4).get(0);
        byte[] gre = outer(47, cat(u16(0), u16(0x0800), ip));
        int cut = gre.length - ip.length + 10;
        assertThat(classifier.classify(LinkLayer.ETHERNET, gre, cut, gre.length)).isEqualTo(SkipReason.TRUNCATED);
        byte[] dns = outer(17, udp(53, new byte[12]));
        assertThat(classifier.classify(LinkLayer.ETHERNET, dns, dns.length, dns.length)).isEqualTo(SkipReason.NOT_TCP);
    }

    private static void assertInner(Encapsulation kind, Function<byte[], byte[]> wrap) throws Exception {
        assertInner(kind, wrap, 0);
    }

    /** Wraps each service IP packet (of IP version {@code version}, 0: any) and checks the classifier reads it whole. */
    private static void assertInner(Encapsulation kind, Function<byte[], byte[]> wrap, int version) throws Exception {
        List<byte[]> packets = servicePackets(version);
        assertThat(packets).isNotEmpty();
        PacketClassifier classifier = new PacketClassifier(PORTS);
        PacketClassifier direct = new PacketClassifier(LinkLayer.RAW_IP, PORTS);
        for (byte[] ip : packets) {
            byte[] frame = wrap.apply(ip);
            assertThat(classifier.classify(LinkLayer.ETHERNET, frame, frame.length, frame.length)).as(kind.label()).isNull();
            assertThat(classifier.encapsulation()).isEqualTo(kind);
            assertThat(direct.classify(ip, ip.length, ip.length)).isNull();
            PacketView inner = classifier.view();
            PacketView plain = direct.view();
            assertThat(inner.array()).isSameAs(frame); // read in place, not copied
            assertThat(Arrays.copyOfRange(frame, inner.ipOffset(), inner.ipOffset() + inner.ipLength()))
                    .isEqualTo(Arrays.copyOfRange(ip, plain.ipOffset(), plain.ipOffset() + plain.ipLength()));
            assertThat(classifier.clientToServer()).isEqualTo(direct.clientToServer());
        }
    }

    /** The IP packets of ethernet.pcap's port-8080 TCP frames. */
    private static List<byte[]> servicePackets(int version) throws Exception {
        PacketClassifier classifier = new PacketClassifier(LinkLayer.ETHERNET, PORTS);
        return Fixtures.frames("ethernet.pcap").stream()
                .filter(f -> classifier.classify(f.bytes(), f.bytes().length, f.wireLength()) == null)
                .map(f -> Arrays.copyOfRange(f.bytes(), classifier.view().ipOffset(),
                        classifier.view().ipOffset() + classifier.view().ipLength()))
                .filter(ip -> version == 0 || version(ip) == version)
                .toList();
    }

    private static int version(byte[] ip) {
        return (ip[0] & 0xF0) >>> 4;
    }

    private static int etherType(byte[] ip) {
        return version(ip) == 4 ? 0x0800 : 0x86DD;
    }

    private static byte[] ethernet(int etherType, byte[] payload) {
        return cat(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}, u16(etherType), payload);
    }

    private static byte[] innerEthernet(byte[] ip) {
        return ethernet(etherType(ip), ip);
    }

    /** Outer Ethernet and IPv4 (192.0.2.1 > 192.0.2.2) of protocol {@code protocol}. */
    private static byte[] outer(int protocol, byte[] payload) {
        byte[] head = {0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, (byte) protocol, 0, 0, (byte) 192, 0, 2, 1, (byte) 192, 0, 2, 2};
        byte[] length = u16(20 + payload.length);
        head[2] = length[0];
        head[3] = length[1];
        return ethernet(0x0800, cat(head, payload));
    }

    /** Outer Ethernet and IPv6 (2001:db8::1 > 2001:db8::2) of next header {@code protocol}. */
    private static byte[] outer6(int protocol, byte[] payload) {
        byte[] src = new byte[16];
        src[0] = 0x20;
        src[1] = 0x01;
        src[2] = 0x0d;
        src[3] = (byte) 0xb8;
        byte[] dst = src.clone();
        src[15] = 1;
        dst[15] = 2;
        return ethernet(0x86DD, cat(new byte[] {0x60, 0, 0, 0}, u16(payload.length), new byte[] {(byte) protocol, 64},
                src, dst, payload));
    }

    private static byte[] udp(int dstPort, byte[] payload) {
        return cat(u16(50000), u16(dstPort), u16(8 + payload.length), u16(0), payload);
    }

    private static byte[] u16(int v) {
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
