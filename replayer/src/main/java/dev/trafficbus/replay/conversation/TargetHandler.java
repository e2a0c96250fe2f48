package dev.trafficbus.replay.conversation;

import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.tls.TlsFailures;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * The last handler of a pipeline toward the target, in both engines: passes what the connection does (answer
 * bytes, its end, a failure, a TLS handshake's outcome) to its {@link Connection}; answers are only read.
 */
public final class TargetHandler extends ChannelInboundHandlerAdapter {
    /** Where answer bytes from direct buffers are copied to be read, one per event loop thread. */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[16 * 1024];
        }
    };

    /** The transport's side of one connection's pipeline. */
    public interface Connection {
        /** Answer bytes {@code b[off, off + len)}, valid during the call only. */
        void received(byte[] b, int off, int len, long now);

        /** The connection ended. */
        void inactive();

        /** The connection failed; a failed TLS handshake arrives here too. */
        void failed(Throwable cause);
    }

    private final Connection connection;
    /** Non-null when certificates are not checked: each TLS connection made is counted as tls-unverified. */
    private final ReplayCounters unverified;

    /** Hands {@code connection} what its pipeline reads; {@code unverified} counts unchecked TLS, or is null. */
    public TargetHandler(Connection connection, ReplayCounters unverified) {
        this.connection = connection;
        this.unverified = unverified;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof ByteBuf buf) {
                read(buf);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void read(ByteBuf buf) {
        int bytes = buf.readableBytes();
        long now = System.nanoTime();
        if (buf.hasArray()) {
            connection.received(buf.array(), buf.arrayOffset() + buf.readerIndex(), bytes, now);
            return;
        }
        byte[] scratch = SCRATCH.get();
        for (int done = 0; done < bytes; ) {
            int n = Math.min(scratch.length, bytes - done);
            buf.getBytes(buf.readerIndex() + done, scratch, 0, n);
            connection.received(scratch, 0, n, now);
            done += n;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            Throwable failure = TlsFailures.handshakeFailure(e, unverified);
            if (failure != null) {
                connection.failed(failure);
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.inactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.failed(cause);
    }
}
