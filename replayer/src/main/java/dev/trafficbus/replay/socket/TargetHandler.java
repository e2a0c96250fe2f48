package dev.trafficbus.replay.socket;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.intake.ReplayCounters;
import dev.trafficbus.replay.tls.TlsFailures;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

import javax.net.ssl.SSLHandshakeException;

/** Passes what happens on one connection to the target to its {@link ReplaySession}; answers are only counted. */
public final class TargetHandler extends ChannelInboundHandlerAdapter {
    private final ReplaySession session;
    /** Non-null when certificates are not checked: each TLS connection made is counted as tls-unverified. */
    private final ReplayCounters unverified;

    TargetHandler(ReplaySession session, ReplayCounters unverified) {
        this.session = session;
        this.unverified = unverified;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof ByteBuf b) {
                session.onRead(b);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (e.isSuccess()) {
                if (unverified != null) {
                    unverified.problem(ReplayProblem.TLS_UNVERIFIED);
                }
            } else if (TlsFailures.classify(e.cause()) != null) {
                session.onError(e.cause());
            } else {
                // Closed or reset during the handshake: a handshake failure all the same.
                SSLHandshakeException h = new SSLHandshakeException("TLS handshake failed: " + e.cause());
                h.initCause(e.cause());
                session.onError(h);
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.onInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        session.onError(cause);
    }
}
