package dev.trafficbus.capture;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.packet.TestPackets;
import dev.trafficbus.redact.RedactionRules;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The forwarder's per-connection carry of unfinished heads: what it follows, and what it counts as unchecked. */
class FlowRedactionTest {
    private static final int ACK = PacketView.ACK | PacketView.PSH;
    private final FlowRedaction redaction = new FlowRedaction(RedactionRules.DEFAULTS);

    @Test
    void aHeadGoesOnInTheNextSegmentAndARetransmissionIsMaskedTheSameWay() {
        byte[] first = segment(40000, 1000, "GET / HTTP/1.1\r\nCookie: a=", ACK);
        byte[] second = segment(40000, 1000 + 26, "secret\r\n\r\n", ACK);
        byte[] again = segment(40000, 1000 + 26, "secret\r\n\r\n", ACK);
        assertThat(apply(first)).isEqualTo("GET / HTTP/1.1\r\nCookie: **");
        assertThat(redaction.openHeads()).isEqualTo(1);
        assertThat(apply(second)).isEqualTo("******\r\n\r\n");
        assertThat(redaction.openHeads()).as("the blank line ends the head").isZero();
        assertThat(apply(again)).as("no carry left: a segment that does not start a message is not scanned")
                .isEqualTo("secret\r\n\r\n");
        byte[] head = segment(40001, 5000, "GET / HTTP/1.1\r\nAuthoriz", ACK);
        byte[] rest = segment(40001, 5000 + 24, "ation: Basic eA==\r\nX", ACK);
        byte[] rest2 = segment(40001, 5000 + 24, "ation: Basic eA==\r\nX", ACK);
        apply(head);
        assertThat(apply(rest)).isEqualTo("ation: **********\r\nX");
        assertThat(apply(rest2)).as("a retransmission of the last segment").isEqualTo("ation: **********\r\nX");
        assertThat(redaction.unchecked()).isZero();
        assertThat(redaction.fieldsByRule()).containsEntry("header:Cookie", 1L).containsEntry("header:Authorization", 2L);
    }

    @Test
    void aSegmentAfterAGapIsCheckedFromALineStartAndCounted() {
        apply(segment(40002, 1, "GET / HTTP/1.1\r\nHost: x\r\n", ACK));
        // The next 10 bytes were lost; this one cannot be placed in the head.
        assertThat(apply(segment(40002, 1 + 25 + 10, "Cookie: lost\r\n\r\n", ACK))).isEqualTo("Cookie: ****\r\n\r\n");
        assertThat(redaction.unchecked()).isEqualTo(1);
    }

    @Test
    void finAndRstDropTheCarry() {
        apply(segment(40003, 1, "GET / HTTP/1.1\r\nCookie: a", ACK));
        apply(segment(40004, 1, "GET / HTTP/1.1\r\nCookie: a", ACK));
        assertThat(redaction.openHeads()).isEqualTo(2);
        apply(segment(40003, 27, "", PacketView.FIN | PacketView.ACK));
        apply(reverse(40004, 1, PacketView.RST));
        assertThat(redaction.openHeads()).isZero();
        assertThat(redaction.unchecked()).isZero();
    }

    @Test
    void whenEveryCarryIsTakenTheHeadIsCountedUnchecked() {
        for (int i = 0; i < FlowRedaction.MAX_OPEN_HEADS; i++) {
            apply(segment(1024 + i, 1, "GET / HTTP/1.1\r\nCookie: a", ACK));
        }
        assertThat(redaction.openHeads()).isEqualTo(FlowRedaction.MAX_OPEN_HEADS);
        assertThat(redaction.unchecked()).isZero();
        apply(segment(60000, 1, "GET / HTTP/1.1\r\nCookie: a", ACK));
        assertThat(redaction.unchecked()).isEqualTo(1);
        // The carries are still found after so many inserts (the probe runs are intact).
        assertThat(apply(segment(1024 + 77, 1 + 25, "bc\r\n\r\n", ACK))).isEqualTo("**\r\n\r\n");
        assertThat(redaction.openHeads()).isEqualTo(FlowRedaction.MAX_OPEN_HEADS - 1);
    }

    private String apply(byte[] ip) {
        PacketView v = new PacketView();
        assertThat(v.wrap(ip, 0, ip.length)).isEqualTo(PacketStatus.TCP);
        redaction.apply(v);
        return new String(ip, v.payloadOffset(), v.payloadLength(), StandardCharsets.ISO_8859_1);
    }

    private static byte[] segment(int clientPort, long seq, String payload, int flags) {
        return TestPackets.ipv4(new int[] {10, 0, 0, 2}, clientPort, new int[] {10, 0, 0, 1}, 80, seq, 1, flags,
                new byte[0], payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static byte[] reverse(int clientPort, long seq, int flags) {
        return TestPackets.ipv4(new int[] {10, 0, 0, 1}, 80, new int[] {10, 0, 0, 2}, clientPort, seq, 1, flags,
                new byte[0], new byte[0]);
    }
}
