package dev.trafficbus.replay.socket;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.SessionReplay;
import dev.trafficbus.replay.conversation.TargetHandler;
import dev.trafficbus.replay.conversation.Transport;
import dev.trafficbus.replay.tls.TlsFailures;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.util.Locale;

/**
 * The socket engine's transport for one replayed session: one ordinary TCP (or TLS) connection to the target,
 * opened once the connection cap grants a slot. What the connection does is passed to the {@link SessionReplay},
 * which decides everything else. On the session's event loop, except {@link #slotGranted()}.
 */
final class ReplaySession implements Transport, TargetHandler.Connection {
    private final ReplayEngine engine;
    private final SessionReplay session;
    private Channel channel;
    private boolean slotHeld;
    private boolean inLine;
    private boolean released;

    ReplaySession(ReplayEngine engine, SessionReplay session) {
        this.engine = engine;
        this.session = session;
    }

    @Override
    public boolean open(byte[] first, long now) {
        if (!slotHeld) {
            if (inLine) {
                return false;
            }
            if (!engine.limiter.acquireOrWait(this)) {
                inLine = true;
                return false;
            }
            slotHeld = true;
        }
        engine.bootstrap(session.loop()).handler(engine.handlers(this, first))
                .connect(engine.target)
                .addListener((ChannelFutureListener) this::onConnected);
        return true;
    }

    /** Called by the connection limiter (any thread) when this session's turn came. */
    void slotGranted() {
        session.loop().execute(() -> {
            inLine = false;
            if (released || !session.waitingForSlot()) {
                engine.limiter.release(); // gave up meanwhile; pass the slot on
                return;
            }
            slotHeld = true;
            session.advance();
        });
    }

    @Override
    public void send(byte[] bytes, long now) {
        // A failed write shows up as exceptionCaught, like any other error on the connection. Copied once into
        // a pooled direct buffer: a wrapped heap array would be copied there by the channel all the same, through
        // two views and a wrapper made per message.
        ByteBuf out = channel.alloc().directBuffer(bytes.length);
        out.writeBytes(bytes);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    @Override
    public void close(boolean reset, long now) {
        channel.close().addListener(f -> session.closeDone());
    }

    @Override
    public void release() {
        released = true;
        if (inLine) {
            engine.limiter.cancel(this); // if the grant is already on its way, slotGranted() hands it on
        }
        if (channel != null && channel.isOpen()) {
            channel.close();
        }
        if (slotHeld) {
            slotHeld = false;
            engine.limiter.release();
        }
    }

    private void onConnected(ChannelFuture f) {
        if (released) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            session.openFailed(c instanceof ConnectTimeoutException ? ReplayProblem.CONNECT_TIMEOUT
                    : c instanceof NoRouteToHostException ? ReplayProblem.CONNECT_UNREACHABLE
                    : c instanceof ConnectException ? ReplayProblem.CONNECT_REFUSED : ReplayProblem.CONNECT_ERROR);
            return;
        }
        channel = f.channel();
        session.connected(System.nanoTime());
    }

    // ---- what the connection does (its TargetHandler) ----

    @Override
    public void received(byte[] b, int off, int len, long now) {
        session.received(b, off, len, now);
    }

    @Override
    public void inactive() {
        session.targetClosed(ReplayProblem.TARGET_CLOSED, System.nanoTime());
    }

    @Override
    public void failed(Throwable cause) {
        ReplayProblem tls = TlsFailures.classify(cause);
        ReplayProblem reason = tls != null ? tls
                : cause instanceof IOException && String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT)
                .contains("reset") ? ReplayProblem.TARGET_RESET
                : !(cause instanceof IOException) ? ReplayProblem.TARGET_ERROR : ReplayProblem.TARGET_CLOSED;
        if (channel != null) {
            channel.close();
        }
        session.targetClosed(reason, System.nanoTime());
    }

    @Override
    public String toString() {
        return session.toString();
    }
}
