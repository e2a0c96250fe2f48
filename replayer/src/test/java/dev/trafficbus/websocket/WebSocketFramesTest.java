package dev.trafficbus.websocket;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WebSocketFramesTest {
    /** A client frame: FIN, opcode, masked with {@code key}, the length in its shortest form. */
    private static byte[] frame(boolean fin, int opcode, byte[] payload, byte[] key) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write((fin ? 0x80 : 0) | opcode);
        int n = payload.length;
        if (n < 126) {
            o.write(0x80 | n);
        } else if (n < 65536) {
            o.write(0x80 | 126);
            o.write(n >>> 8);
            o.write(n);
        } else {
            o.write(0x80 | 127);
            for (int k = 7; k >= 0; k--) {
                o.write((int) ((long) n >>> (8 * k)));
            }
        }
        o.writeBytes(key);
        for (int i = 0; i < n; i++) {
            o.write(payload[i] ^ key[i & 3]);
        }
        return o.toByteArray();
    }

    private static byte[] payload(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 31);
        }
        return p;
    }

    @Test
    void framesOfEveryLengthFormAreFoundInAnySplitAndReMaskedToTheSamePayload() {
        byte[] key = {10, 20, 30, 40};
        byte[][] frames = {frame(false, 1, payload(5), key), frame(true, 0, payload(300), key),
                frame(true, 9, new byte[0], key), frame(true, 2, payload(70_000), key)};
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            all.writeBytes(f);
        }
        byte[] stream = all.toByteArray();
        for (int piece : new int[] {1, 3, 1000, stream.length}) {
            List<Integer> opcodes = new ArrayList<>();
            List<Boolean> between = new ArrayList<>();
            WebSocketFrames r = new WebSocketFrames((from, op) -> {
                opcodes.add(op);
                between.add(from.betweenMessages());
            }, true);
            byte[] copy = stream.clone();
            for (int off = 0; off < copy.length; off += piece) {
                r.feed(copy, off, Math.min(piece, copy.length - off));
            }
            assertThat(opcodes).as("piece " + piece).containsExactly(1, 0, 9, 2);
            assertThat(between).as("a fragmented message is open until its last fragment")
                    .containsExactly(false, true, true, true);
            // Each frame has a new key and, unmasked with it, the same payload.
            int at = 0;
            for (byte[] f : frames) {
                int n = f.length;
                int head = n - (int) lengthOf(f) - 4;
                byte[] fresh = {copy[at + head], copy[at + head + 1], copy[at + head + 2], copy[at + head + 3]};
                assertThat(fresh).isNotEqualTo(key);
                for (int i = head + 4; i < n; i++) {
                    assertThat((byte) (copy[at + i] ^ fresh[(i - head - 4) & 3]))
                            .isEqualTo((byte) (f[i] ^ key[(i - head - 4) & 3]));
                }
                at += n;
            }
        }
    }

    @Test
    void feedToFrameEndStopsAfterEachFrame() {
        byte[] key = {1, 2, 3, 4};
        byte[] a = frame(true, 1, payload(3), key);
        byte[] b = frame(true, 8, payload(2), key);
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        WebSocketFrames r = new WebSocketFrames(null, false);
        assertThat(r.feedToFrameEnd(both, 0, both.length)).isEqualTo(a.length);
        assertThat(r.frameEnded()).isTrue();
        assertThat(r.feedToFrameEnd(both, a.length, 1)).isEqualTo(1);
        assertThat(r.frameEnded()).isFalse();
        assertThat(r.feedToFrameEnd(both, a.length + 1, b.length - 1)).isEqualTo(b.length - 1);
        assertThat(r.frameEnded()).isTrue();
        assertThat(both).as("not re-masked").startsWith(a);
    }

    @Test
    void aServersSwitchingAnswerIsRecognised() {
        byte[] yes = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n".getBytes();
        byte[] h2c = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\u0000websocket".getBytes();
        byte[] ok = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nwebsocket".getBytes();
        assertThat(WebSocketFrames.isUpgradeAnswer(yes, 0, yes.length)).isTrue();
        assertThat(WebSocketFrames.isUpgradeAnswer(h2c, 0, h2c.length)).isFalse();
        assertThat(WebSocketFrames.isUpgradeAnswer(ok, 0, ok.length)).isFalse();
    }

    private static long lengthOf(byte[] f) {
        int len7 = f[1] & 0x7F;
        if (len7 < 126) {
            return len7;
        }
        if (len7 == 126) {
            return ((f[2] & 0xFF) << 8) | (f[3] & 0xFF);
        }
        long n = 0;
        for (int k = 2; k < 10; k++) {
            n = (n << 8) | (f[k] & 0xFF);
        }
        return n;
    }
}
