package dev.trafficbus.replay.tls;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions to the same target resume the TLS session it issued to an earlier one, as returning clients do, instead
 * of each paying a full handshake (certificate check and key exchange on both sides). The TLS client keeps the
 * sessions (tickets or ids) per server name and port; what this adds is the order: while the first handshake to a
 * name is under way, the connections that follow hold their TLS (and what the session writes) until it has ended,
 * so a run that opens thousands at once resumes from the first instead of racing it with as many full handshakes.
 * Every handshake is counted full or resumed.
 */
final class SessionResumption {
    private final ConcurrentHashMap<String, CompletableFuture<Void>> first = new ConcurrentHashMap<>();
    private final TlsHandshakes handshakes;
    private final boolean resume;

    /** {@code resume} false: no waiting, every connection starts its handshake at once (still counted). */
    SessionResumption(TlsHandshakes handshakes, boolean resume) {
        this.handshakes = handshakes;
        this.resume = resume;
    }

    /** Puts {@code ssl} (a handler for {@code name}:{@code port}) at the end of {@code p}, now or once the first ended. */
    void addTo(ChannelPipeline p, SslHandler ssl, String name, int port) {
        ssl.handshakeFuture().addListener(f -> counted(f, ssl));
        if (!resume) {
            // The JDK's engine caches every session by host and port: a session given up is not offered again.
            ssl.handshakeFuture().addListener(f -> ssl.engine().getSession().invalidate());
            p.addLast(ssl);
            return;
        }
        String key = name + ":" + port;
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> earlier = first.putIfAbsent(key, mine);
        if (earlier == null) {
            // The first: its handshake (success or not) releases those waiting for it.
            ssl.handshakeFuture().addListener(f -> {
                if (!f.isSuccess()) {
                    first.remove(key, mine); // the next connection tries again, for those that come later
                }
                mine.complete(null);
            });
            p.addLast(ssl);
        } else if (earlier.isDone()) {
            p.addLast(ssl);
        } else {
            p.addLast(new Gate(ssl, earlier));
        }
    }

    private void counted(Future<?> f, SslHandler ssl) {
        if (!f.isSuccess()) {
            return; // counted by reason where the session fails
        }
        if (ssl.engine() instanceof ReferenceCountedOpenSslEngine e) {
            handshakes.count(SSL.isSessionReused(e.sslPointer()) ? TlsHandshakes.Kind.RESUMED : TlsHandshakes.Kind.FULL);
        } else {
            handshakes.count(TlsHandshakes.Kind.UNKNOWN);
        }
    }

    /** Holds one connection's writes until the first handshake ended, then puts its TLS handler in and lets them go. */
    private static final class Gate extends ChannelDuplexHandler {
        private final SslHandler ssl;
        private final CompletableFuture<Void> released;
        private final ArrayDeque<Object[]> held = new ArrayDeque<>(2);
        private boolean flushed;
        private ChannelHandlerContext ctx;

        Gate(SslHandler ssl, CompletableFuture<Void> released) {
            this.ssl = ssl;
            this.released = released;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            released.whenComplete((v, e) -> ctx.executor().execute(this::open));
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            held.add(new Object[] {msg, promise});
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushed = true;
        }

        /** The first handshake ended: TLS goes in front of this handler, what was held goes through it. */
        private void open() {
            if (ctx.isRemoved()) {
                return;
            }
            if (!ctx.channel().isOpen()) {
                drop();
                return;
            }
            // Added when the channel is active, the handler starts its handshake at once (else on channelActive),
            // with the session the first one left in the client's cache.
            ctx.pipeline().addBefore(ctx.name(), null, ssl);
            for (Object[] w; (w = held.poll()) != null; ) {
                ctx.write(w[0], (ChannelPromise) w[1]);
            }
            if (flushed) {
                ctx.flush();
            }
            ctx.pipeline().remove(this);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            drop();
        }

        private void drop() {
            for (Object[] w; (w = held.poll()) != null; ) {
                ReferenceCountUtil.release(w[0]);
                ChannelPromise p = (ChannelPromise) w[1];
                if (!p.isVoid()) {
                    p.tryFailure(new ClosedChannelException());
                }
            }
        }
    }
}
