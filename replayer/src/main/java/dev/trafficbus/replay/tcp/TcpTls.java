package dev.trafficbus.replay.tcp;

import dev.trafficbus.replay.conversation.TargetHandler;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.tls.TlsClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * TLS over one tcp-engine connection, with the socket engine's client ({@link TlsClient}: SNI, ALPN, resumption,
 * handshakes counted). It runs in a channel no socket backs: what TLS writes becomes our bytes on the connection,
 * the test server's bytes (relayed with their payload) go in, and what they decrypt to reaches the session. Runs on
 * the engine thread only.
 */
final class TcpTls {
    /** Where the channel's records go: our side of the connection. */
    interface Wire {
        /** TLS bytes to send after those sent before. */
        void ciphertext(byte[] bytes);

        /** What {@link #ciphertext} gave since the last call may leave now. */
        void flush();
    }

    private static final String WIRE = "wire";
    private final EmbeddedChannel channel;

    /**
     * Starts the handshake for a connection to {@code port} (SNI {@code serverName}, ALPN from {@code first}): its
     * records go to {@code wire}, the decrypted answers and failures to {@code session}; {@code unverified} counts
     * connections whose certificate is not checked, or is null.
     */
    TcpTls(TlsClient tls, String serverName, int port, byte[] first, ReplayCounters unverified, Wire wire,
           TargetHandler.Connection session) {
        channel = new EmbeddedChannel();
        channel.pipeline().addFirst(WIRE, new WireHandler(wire));
        // Added to an active channel, the TLS handler writes its ClientHello at once (or once an earlier handshake
        // to the same name ended: see gated()).
        tls.addTo(channel.pipeline(), serverName, port, first);
        channel.pipeline().addLast(new TargetHandler(session, unverified));
    }

    /**
     * True while the connection waits for an earlier handshake to the same name before its own (resumption): the
     * engine then runs {@link #runTasks} after others' handshakes, since this channel has no loop of its own.
     */
    boolean gated() {
        return channel.isOpen() && channel.pipeline().get(SslHandler.class) == null;
    }

    /** True until the handshake ended, well or not (also while gated). */
    boolean handshaking() {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        return channel.isOpen() && (ssl == null || !ssl.handshakeFuture().isDone());
    }

    /** Runs what the channel's handlers left to run (an opened gate, a timer due). */
    void runTasks() {
        channel.runPendingTasks();
        channel.runScheduledPendingTasks();
    }

    /** Encrypts {@code plain} (held until the handshake is done). */
    void write(byte[] plain) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(plain));
    }

    /** The test server's bytes {@code b[off, off + len)}, copied (the caller reuses its array). */
    void received(byte[] b, int off, int len) {
        channel.writeInbound(Unpooled.copiedBuffer(b, off, len));
    }

    /** Sends close_notify, as a client ending its TLS connection does. */
    void close() {
        if (channel.isOpen()) {
            channel.close();
        }
    }

    /** Frees what the channel holds; nothing more is sent (a close_notify it still writes stays in the channel). */
    void release() {
        if (channel.pipeline().get(WIRE) != null) {
            channel.pipeline().remove(WIRE);
        }
        channel.finishAndReleaseAll();
    }

    /** The channel's end toward the connection: its writes become our bytes on the wire. */
    private static final class WireHandler extends ChannelOutboundHandlerAdapter {
        private final Wire wire;

        WireHandler(Wire wire) {
            this.wire = wire;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            try {
                if (msg instanceof ByteBuf b && b.isReadable()) {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    wire.ciphertext(bytes);
                }
                promise.trySuccess();
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            wire.flush();
        }
    }
}
