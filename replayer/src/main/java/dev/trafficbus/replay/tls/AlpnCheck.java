package dev.trafficbus.replay.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

import javax.net.ssl.SSLHandshakeException;

/**
 * Fails a TLS connection whose target did not choose the protocol the session speaks by ALPN: a server that
 * does not speak h2 would read an HTTP/2 session's frames as a broken HTTP/1 request (and the reverse), so the
 * session is counted {@code tls-alpn-refused} instead of replayed into the wrong protocol. A target that chose
 * nothing passes for {@code http/1.1}, which is what a server without ALPN speaks.
 */
final class AlpnCheck extends ChannelInboundHandlerAdapter {
    private final String wanted;

    AlpnCheck(String wanted) {
        this.wanted = wanted;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
            String chosen = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            ctx.pipeline().remove(this);
            ctx.fireUserEventTriggered(evt);
            if (!wanted.equals(chosen) && (chosen != null || !wanted.equals("http/1.1"))) {
                ctx.fireExceptionCaught(new AlpnRefusedException(wanted, chosen));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The target chose {@code chosen} (null: nothing) when {@code wanted} was offered. */
    static final class AlpnRefusedException extends SSLHandshakeException {
        AlpnRefusedException(String wanted, String chosen) {
            super("the target chose ALPN " + (chosen == null ? "nothing" : "'" + chosen + "'") + " where '" + wanted
                    + "' was offered: it does not speak the session's protocol over TLS");
        }
    }
}
