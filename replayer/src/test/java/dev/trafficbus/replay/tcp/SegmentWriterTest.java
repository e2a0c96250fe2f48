package dev.trafficbus.replay.tcp;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SegmentWriterTest {
    private final SegmentWriter w = new SegmentWriter();

    @Test
    void ipv4SynCarriesTheOptionsAndValidChecksums() throws Exception {
        byte[] src = InetAddress.getByName("10.99.0.1").getAddress();
        byte[] dst = InetAddress.getByName("10.201.1.2").getAddress();
        int n = w.write(src, dst, 2048, 80, 0xfffffff0L, 0, PacketView.SYN, 65535,
                SegmentWriter.OPT_MSS | SegmentWriter.OPT_WSCALE | SegmentWriter.OPT_SACK_OK, 1460, 7, null, 0, 0);
        PacketView v = new PacketView();
        assertThat(v.wrap(w.buffer(), 0, n)).isEqualTo(PacketStatus.TCP);
        assertThat(v.srcPort()).isEqualTo(2048);
        assertThat(v.dstPort()).isEqualTo(80);
        assertThat(v.seq()).isEqualTo(0xfffffff0L);
        assertThat(v.flags()).isEqualTo(PacketView.SYN);
        assertThat(v.mssOption()).isEqualTo(1460);
        assertThat(v.windowScaleOption()).isEqualTo(7);
        assertThat(v.sackPermittedOption()).isTrue();
        assertThat(onesComplementSum(w.buffer(), 0, 20, 0)).isEqualTo(0xffff);
        assertThat(tcpChecksumOk(w.buffer(), n, 20, src, dst)).isTrue();
    }

    @Test
    void ipv6DataSegmentHasItsPayloadAndAValidChecksum() throws Exception {
        byte[] src = InetAddress.getByName("fd99::5").getAddress();
        byte[] dst = InetAddress.getByName("fd01::2").getAddress();
        byte[] body = "GET / HTTP/1.1\r\n\r\n!".getBytes(StandardCharsets.US_ASCII); // odd length
        int n = w.write(src, dst, 5000, 8080, 1000, 2000, PacketView.ACK | PacketView.PSH, 512, 0, 0, 0,
                body, 0, body.length);
        PacketView v = new PacketView();
        assertThat(v.wrap(w.buffer(), 0, n)).isEqualTo(PacketStatus.TCP);
        assertThat(v.ipVersion()).isEqualTo(6);
        assertThat(v.payloadLength()).isEqualTo(body.length);
        assertThat(v.ackNumber()).isEqualTo(2000);
        assertThat(v.window()).isEqualTo(512);
        assertThat(new String(w.buffer(), v.payloadOffset(), v.payloadLength(), StandardCharsets.US_ASCII))
                .isEqualTo(new String(body, StandardCharsets.US_ASCII));
        assertThat(tcpChecksumOk(w.buffer(), n, 40, src, dst)).isTrue();
    }

    private static boolean tcpChecksumOk(byte[] b, int total, int ipLen, byte[] src, byte[] dst) {
        int segLen = total - ipLen;
        int s = onesComplementSum(src, 0, src.length, 0);
        s = onesComplementSum(dst, 0, dst.length, s);
        s += 6 + segLen;
        s = onesComplementSum(b, ipLen, segLen, s);
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return s == 0xffff;
    }

    private static int onesComplementSum(byte[] b, int off, int len, int acc) {
        long s = acc;
        for (int i = 0; i + 1 < len; i += 2) {
            s += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            s += (b[off + len - 1] & 0xff) << 8;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }
}
