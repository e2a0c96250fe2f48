package dev.trafficbus.replay.socket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/** Passes what happens on one connection to the target to its {@link ReplaySession}; answers are only counted. */
public final class TargetHandler extends ChannelInboundHandlerAdapter {
    private final ReplaySession session;

    TargetHandler(ReplaySession session) {
        this.session = session;
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
    public void channelInactive(ChannelHandlerContext ctx) {
        session.onInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        session.onError(cause);
    }
}
