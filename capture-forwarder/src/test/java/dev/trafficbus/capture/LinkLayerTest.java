package dev.trafficbus.capture;

import dev.trafficbus.packet.LinkLayer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LinkLayerTest {

    @Test
    void mapsTheLinkTypesOfTheFixturesAndTheDocumentedDlts() throws Exception {
        assertThat(LinkLayer.forDlt(Fixtures.dlt("ethernet.pcap"))).isEqualTo(LinkLayer.ETHERNET);
        assertThat(LinkLayer.forDlt(Fixtures.dlt("sll.pcap"))).isEqualTo(LinkLayer.LINUX_SLL);
        assertThat(LinkLayer.forDlt(Fixtures.dlt("sll2.pcap"))).isEqualTo(LinkLayer.LINUX_SLL2);
        assertThat(LinkLayer.forDlt(Fixtures.dlt("raw.pcap"))).isEqualTo(LinkLayer.RAW_IP);
        assertThat(LinkLayer.forDlt(0)).isEqualTo(LinkLayer.BSD_NULL);
        assertThat(LinkLayer.forDlt(108)).isEqualTo(LinkLayer.BSD_LOOP);
        assertThat(LinkLayer.forDlt(101)).isEqualTo(LinkLayer.RAW_IP);
        assertThat(LinkLayer.forDlt(14)).isEqualTo(LinkLayer.RAW_IP);
        assertThat(LinkLayer.forDlt(228)).isEqualTo(LinkLayer.IPV4);
        assertThat(LinkLayer.forDlt(229)).isEqualTo(LinkLayer.IPV6);
        assertThat(LinkLayer.forDlt(105)).as("802.11").isNull();
        assertThat(LinkLayer.forDlt(147)).as("USER0").isNull();
    }

    @Test
    void ethernetFramesStartIpAfter14BytesAndArpIsNotIp() throws Exception {
        assertOffsets("ethernet.pcap", LinkLayer.ETHERNET, 14, Fixtures.ETHERNET);
    }

    @Test
    void oneVlanTagMovesIpBy4Bytes() throws Exception {
        assertOffsets("vlan.pcap", LinkLayer.ETHERNET, 18, Fixtures.VLAN);
    }

    @Test
    void stacked8021adAnd8021qTagsAreBothSkipped() throws Exception {
        assertOffsets("qinq.pcap", LinkLayer.ETHERNET, 22, Fixtures.QINQ);
    }

    @Test
    void linuxCookedV1AndV2() throws Exception {
        assertOffsets("sll.pcap", LinkLayer.LINUX_SLL, 16, Fixtures.SLL);
        assertOffsets("sll2.pcap", LinkLayer.LINUX_SLL2, 20, Fixtures.SLL2);
    }

    @Test
    void rawIpStartsAtZero() throws Exception {
        assertOffsets("raw.pcap", LinkLayer.RAW_IP, 0, Fixtures.RAW);
    }

    private static void assertOffsets(String file, LinkLayer layer, int ipOffset, Fixtures.Expected expected) throws Exception {
        List<Fixtures.Frame> frames = Fixtures.frames(file);
        assertThat(frames).hasSize(expected.total());
        int ip = 0;
        int notIp = 0;
        for (Fixtures.Frame f : frames) {
            int offset = layer.ipOffset(f.bytes(), f.bytes().length);
            if (offset == LinkLayer.NOT_IP) {
                notIp++;
            } else {
                assertThat(offset).isEqualTo(ipOffset);
                int version = (f.bytes()[offset] & 0xF0) >>> 4;
                assertThat(version).isIn(4, 6);
                ip++;
            }
        }
        assertThat(notIp).isEqualTo(expected.notIp());
        assertThat(ip).isEqualTo(expected.total() - expected.notIp());
    }

    @Test
    void threeStackedTagsIncludingTheOld9100Type() {
        byte[] frame = ethernet(0x88A8, 0x9100, 0x8100, 0x86DD);
        assertThat(LinkLayer.ETHERNET.ipOffset(frame, frame.length)).isEqualTo(26);
    }

    @Test
    void ethernetCutInsideTheTagsIsTruncatedAndOtherTypesAreNotIp() {
        byte[] frame = ethernet(0x8100, 0x8100, 0x0800);
        assertThat(LinkLayer.ETHERNET.ipOffset(frame, 17)).isEqualTo(LinkLayer.TRUNCATED);
        assertThat(LinkLayer.ETHERNET.ipOffset(frame, 13)).isEqualTo(LinkLayer.TRUNCATED);
        byte[] arp = ethernet(0x0806);
        assertThat(LinkLayer.ETHERNET.ipOffset(arp, arp.length)).isEqualTo(LinkLayer.NOT_IP);
        byte[] llc = ethernet(0x0040); // 802.3 length field
        assertThat(LinkLayer.ETHERNET.ipOffset(llc, llc.length)).isEqualTo(LinkLayer.NOT_IP);
    }

    @Test
    void endlessVlanTagsAreRejectedWithoutRunningOffTheFrame() {
        int[] types = new int[40];
        java.util.Arrays.fill(types, 0x8100);
        byte[] frame = ethernet(types);
        assertThat(LinkLayer.ETHERNET.ipOffset(frame, frame.length)).isEqualTo(LinkLayer.NOT_IP);
    }

    @Test
    void bsdNullFamilyInEitherByteOrder() {
        // Little-endian hosts (x86 BSDs, macOS) write 02 00 00 00; big-endian ones 00 00 00 02.
        assertThat(LinkLayer.BSD_NULL.ipOffset(bytes(2, 0, 0, 0, 0x45), 5)).isEqualTo(4);
        assertThat(LinkLayer.BSD_NULL.ipOffset(bytes(0, 0, 0, 2, 0x45), 5)).isEqualTo(4);
        for (int inet6 : new int[] {24, 28, 30}) {
            assertThat(LinkLayer.BSD_NULL.ipOffset(bytes(inet6, 0, 0, 0, 0x60), 5)).isEqualTo(4);
            assertThat(LinkLayer.BSD_NULL.ipOffset(bytes(0, 0, 0, inet6, 0x60), 5)).isEqualTo(4);
        }
        assertThat(LinkLayer.BSD_NULL.ipOffset(bytes(7, 0, 0, 0, 0x45), 5)).isEqualTo(LinkLayer.NOT_IP);
        assertThat(LinkLayer.BSD_NULL.ipOffset(bytes(2, 0, 0), 3)).isEqualTo(LinkLayer.TRUNCATED);
    }

    @Test
    void bsdLoopFamilyIsInNetworkOrder() {
        assertThat(LinkLayer.BSD_LOOP.ipOffset(bytes(0, 0, 0, 2, 0x45), 5)).isEqualTo(4);
        assertThat(LinkLayer.BSD_LOOP.ipOffset(bytes(0, 0, 0, 24, 0x60), 5)).isEqualTo(4);
        assertThat(LinkLayer.BSD_LOOP.ipOffset(bytes(2, 0, 0, 0, 0x45), 5)).isEqualTo(LinkLayer.NOT_IP);
    }

    @Test
    void cookedHeadersCutShortAreTruncated() {
        assertThat(LinkLayer.LINUX_SLL.ipOffset(new byte[15], 15)).isEqualTo(LinkLayer.TRUNCATED);
        assertThat(LinkLayer.LINUX_SLL2.ipOffset(new byte[19], 19)).isEqualTo(LinkLayer.TRUNCATED);
        assertThat(LinkLayer.IPV4.ipOffset(new byte[20], 20)).isZero();
        assertThat(LinkLayer.IPV6.ipOffset(new byte[40], 40)).isZero();
    }

    /** 12 bytes of MAC addresses, then each type followed by 2 bytes of tag control (the last one by nothing). */
    private static byte[] ethernet(int... types) {
        byte[] f = new byte[12 + types.length * 4 + 20];
        int p = 12;
        for (int t : types) {
            f[p] = (byte) (t >>> 8);
            f[p + 1] = (byte) t;
            p += 4;
        }
        return f;
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
