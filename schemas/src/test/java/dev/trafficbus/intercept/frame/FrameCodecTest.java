package dev.trafficbus.intercept.frame;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    @Test
    void helloRoundTripsAndMatchesTheDocumentedLayout() {
        byte[] token = "s3cret".getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(FrameWriter.helloSize(token, "r1"));
        FrameWriter.hello(buf, token, "r1");
        assertThat(buf.remaining()).isZero();
        buf.flip();
        // u32 length, u8 type, u16 version, u16 tokenLen, token, u16 nameLen, name
        assertThat(buf.getInt(0)).isEqualTo(1 + 2 + 2 + 6 + 2 + 2);
        assertThat(buf.get(4)).isEqualTo(InterceptFrames.HELLO);
        assertThat(FrameReader.frameSize(buf)).isEqualTo(buf.limit());
        FrameReader.Hello hello = FrameReader.readHello(buf);
        assertThat(hello.version()).isEqualTo(InterceptFrames.VERSION);
        assertThat(hello.token()).isEqualTo(token);
        assertThat(hello.name()).isEqualTo("r1");
    }

    @Test
    void partialFramesAreNotReadyAndBadLengthsAreRejected() {
        ByteBuffer buf = ByteBuffer.allocate(64);
        FrameWriter.welcome(buf, true);
        buf.flip();
        ByteBuffer part = buf.duplicate().limit(buf.limit() - 1);
        assertThat(FrameReader.frameSize(part)).isEqualTo(-1);
        assertThat(FrameReader.readWelcome(buf).withPayload()).isTrue();

        ByteBuffer huge = ByteBuffer.allocate(8).putInt(InterceptFrames.MAX_FRAME + 1).flip();
        assertThatThrownBy(() -> FrameReader.frameSize(huge)).isInstanceOf(FrameException.class);
        ByteBuffer zero = ByteBuffer.allocate(8).putInt(0).flip();
        assertThatThrownBy(() -> FrameReader.frameSize(zero)).isInstanceOf(FrameException.class);
        // a peer's length-0 frame, as a length-field decoder hands it over: a protocol error, not an index error
        ByteBuffer empty = ByteBuffer.allocate(4).putInt(0).flip();
        assertThatThrownBy(() -> FrameReader.type(empty)).isInstanceOf(FrameException.class);
    }

    @Test
    void routesRoundTripAndMatchByPrefixAndPort() {
        Route route = Route.parse("10.99.7.1/16:1024-2047");
        assertThat(route.toString()).isEqualTo("10.99.0.0/16:1024-2047");
        ByteBuffer buf = ByteBuffer.allocate(FrameWriter.routeSize(route));
        FrameWriter.register(buf, route);
        buf.flip();
        assertThat(FrameReader.type(buf)).isEqualTo(InterceptFrames.REGISTER);
        assertThat(FrameReader.readRoute(buf)).isEqualTo(route);
        ByteBuffer answer = ByteBuffer.allocate(FrameWriter.routeSize(route));
        FrameWriter.registered(answer, route);
        answer.flip();
        assertThat(FrameReader.type(answer)).isEqualTo(InterceptFrames.REGISTERED);
        assertThat(FrameReader.readRoute(answer)).isEqualTo(route);

        byte[] inside = {10, 99, (byte) 200, 3};
        byte[] outside = {10, 98, 0, 3};
        assertThat(route.matches(inside, 0, 4, 1500)).isTrue();
        assertThat(route.matches(inside, 0, 4, 2048)).isFalse();
        assertThat(route.matches(outside, 0, 4, 1500)).isFalse();

        Route v6 = Route.parse("[fd00:99::]/61");
        byte[] a6 = new byte[16];
        a6[0] = (byte) 0xfd;
        a6[2] = 0;
        a6[3] = (byte) 0x99;
        a6[7] = 7;
        assertThat(v6.matches(a6, 0, 16, 80)).isTrue();
        a6[7] = 8;
        assertThat(v6.matches(a6, 0, 16, 80)).isFalse();
        assertThatThrownBy(() -> Route.parse("10.0.0.0/33")).isInstanceOf(FrameException.class);
        assertThatThrownBy(() -> Route.parse("host.example/8")).isInstanceOf(FrameException.class);
    }

    @Test
    void onlyFullLiteralAddressesAreRoutes() {
        // Java would read "10.99" as 10.0.0.99 (a silently wrong range) and look "cafe" up in DNS
        assertThatThrownBy(() -> Route.parse("10.99/16")).isInstanceOf(FrameException.class)
                .hasMessageContaining("literal IP address");
        assertThatThrownBy(() -> Route.parse("cafe/16")).isInstanceOf(FrameException.class)
                .hasMessageContaining("literal IP address");
        assertThatThrownBy(() -> Route.parse("10.99.0.256/16")).isInstanceOf(FrameException.class);
        assertThat(Route.parse("10.99.0.0/16").family()).isEqualTo(4);
        Route mapped = Route.parse("::ffff:10.99.0.0/112");
        assertThat(mapped.family()).isEqualTo(6);
        assertThat(mapped.prefixLength()).isEqualTo(112);
    }

    @Test
    void packetsFrameCarriesEveryPacketInOrder() {
        ByteBuffer buf = ByteBuffer.allocate(256);
        int start = FrameWriter.beginPackets(buf);
        byte[] a = {1, 2, 3};
        byte[] b = {9, 8, 7, 6, 5};
        FrameWriter.addPacket(buf, a, 0, 3);
        assertThat(FrameWriter.packetFits(buf, start, 1, 5)).isTrue();
        FrameWriter.addPacket(buf, b, 1, 4);
        FrameWriter.endPackets(buf, start, 2);
        FrameWriter.ping(buf);
        buf.flip();

        List<byte[]> got = new ArrayList<>();
        int size = FrameReader.frameSize(buf);
        ByteBuffer frame = buf.duplicate().limit(size);
        int n = FrameReader.readPackets(frame, (bb, off, len) -> {
            byte[] copy = new byte[len];
            bb.get(off, copy);
            got.add(copy);
        });
        assertThat(n).isEqualTo(2);
        assertThat(got.get(0)).containsExactly(1, 2, 3);
        assertThat(got.get(1)).containsExactly(8, 7, 6, 5);
        buf.position(size);
        assertThat(FrameReader.frameSize(buf)).isEqualTo(5);
        assertThat(FrameReader.type(buf)).isEqualTo(InterceptFrames.PING);
    }

    @Test
    void aPacketLengthRunningPastTheFrameIsAProtocolError() {
        ByteBuffer buf = ByteBuffer.allocate(64);
        int start = FrameWriter.beginPackets(buf);
        FrameWriter.addPacket(buf, new byte[4], 0, 4);
        FrameWriter.endPackets(buf, start, 2);
        buf.flip();
        assertThatThrownBy(() -> FrameReader.readPackets(buf, (bb, off, len) -> { }))
                .isInstanceOf(FrameException.class).hasMessageContaining("ends early");
    }
}
