package dev.trafficbus.intercept;

import dev.trafficbus.intercept.frame.FrameException;
import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.FrameWriter;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.intercept.frame.Route;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One replayer connection's protocol: HELLO (token and version checked) → WELCOME, then REGISTER (answered
 * REGISTERED) and UNREGISTER of routes; anything else, a bad token, a late HELLO, a malformed frame or a route
 * overlapping another replayer's gets REFUSED and the connection closes.
 * Receives whole frames (length prefix included) from a length-field decoder.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ClientHandler.class);

    /** How long a refused peer has to read the REFUSED frame before the connection is closed anyway. */
    private static final long REFUSE_GRACE_MILLIS = 2000;

    private final AccessToken token;
    private final boolean withPayload;
    private final long helloTimeoutMillis;
    private final int maxQueue;
    private final ResponseRouter router;
    private final InterceptCounters counters;
    private ClientLink link;
    private ScheduledFuture<?> helloDeadline;
    private boolean closing;

    ClientHandler(AccessToken token, boolean withPayload, long helloTimeoutMillis, int maxQueue, ResponseRouter router,
                  InterceptCounters counters) {
        this.token = token;
        this.withPayload = withPayload;
        this.helloTimeoutMillis = helloTimeoutMillis;
        this.maxQueue = maxQueue;
        this.router = router;
        this.counters = counters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        counters.connected();
        helloDeadline = ctx.executor().schedule(() -> {
            if (link == null) {
                refuse(ctx, RefusalReason.NO_HELLO, "no HELLO within " + helloTimeoutMillis + " ms");
            }
        }, helloTimeoutMillis, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        counters.disconnected();
        if (helloDeadline != null) {
            helloDeadline.cancel(false);
        }
        if (link != null) {
            router.remove(link);
            LOG.info("replayer {} disconnected", link);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            if (!closing) {
                handle(ctx, buf.nioBuffer());
            }
        } catch (FrameException e) {
            refuse(ctx, RefusalReason.PROTOCOL, "protocol error: " + e.getMessage());
        } finally {
            buf.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, ByteBuffer frame) {
        FrameReader.frameSize(frame); // validates the length prefix
        byte type = FrameReader.type(frame);
        if (link == null) {
            if (type != InterceptFrames.HELLO) {
                refuse(ctx, RefusalReason.PROTOCOL, "the first frame must be HELLO, got type " + type);
                return;
            }
            hello(ctx, FrameReader.readHello(frame));
            return;
        }
        switch (type) {
            case InterceptFrames.REGISTER: {
                Route route = FrameReader.readRoute(frame);
                ClientLink owner = router.register(route, link);
                if (owner != null) {
                    refuse(ctx, RefusalReason.ROUTE_CONFLICT, "route " + route + " overlaps the route of replayer "
                            + owner.name() + " (connected from " + peer(owner) + "); give each replayer its own"
                            + " --instance");
                    break;
                }
                ctx.writeAndFlush(frame(ctx, FrameWriter.routeSize(route), out -> FrameWriter.registered(out, route)));
                LOG.info("replayer {} registered {}", link, route);
                break;
            }
            case InterceptFrames.UNREGISTER: {
                Route route = FrameReader.readRoute(frame);
                if (router.unregister(route, link)) {
                    LOG.info("replayer {} unregistered {}", link, route);
                }
                break;
            }
            case InterceptFrames.PING:
                break;
            default:
                refuse(ctx, RefusalReason.PROTOCOL, "unexpected frame type " + type + " from a replayer");
        }
    }

    private void hello(ChannelHandlerContext ctx, FrameReader.Hello hello) {
        if (hello.version() != InterceptFrames.VERSION) {
            refuse(ctx, RefusalReason.BAD_VERSION, "protocol version " + hello.version() + " not supported; intercept"
                    + " speaks version " + InterceptFrames.VERSION);
            return;
        }
        if (token != null && !token.matches(hello.token())) {
            refuse(ctx, RefusalReason.BAD_TOKEN, hello.token().length == 0 ? "missing token" : "bad token");
            return;
        }
        helloDeadline.cancel(false);
        String name = hello.name().isBlank() ? "unnamed" : hello.name();
        link = new ClientLink(ctx.channel(), name, maxQueue, counters);
        ctx.writeAndFlush(frame(ctx, 8, out -> FrameWriter.welcome(out, withPayload)));
        router.add(link);
        LOG.info("replayer {} connected", link);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && link != null && !closing) {
            ctx.writeAndFlush(frame(ctx, FrameWriter.HEADER, FrameWriter::ping));
        } else if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            counters.countRefused(RefusalReason.TLS);
            closing = true;
            LOG.warn("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), tlsProblem(hs.cause()));
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (closing) {
            return;
        }
        if (cause instanceof TooLongFrameException) {
            refuse(ctx, RefusalReason.PROTOCOL, "protocol error: frame longer than "
                    + InterceptServer.MAX_INBOUND_FRAME + " bytes, more than any replayer frame");
            return;
        }
        if (cause instanceof DecoderException) {
            if (cause.getCause() instanceof javax.net.ssl.SSLException) {
                return; // reported by the handshake event
            }
            // any other framing failure is as much a protocol error as a frame too long
            refuse(ctx, RefusalReason.PROTOCOL, "protocol error: " + rootMessage(cause));
            return;
        }
        LOG.warn("connection from {} failed: {}", ctx.channel().remoteAddress(), rootMessage(cause));
        ctx.close();
    }

    private void refuse(ChannelHandlerContext ctx, RefusalReason reason, String text) {
        if (closing) {
            return;
        }
        closing = true;
        counters.countRefused(reason);
        LOG.warn("refused {}{}: {}", ctx.channel().remoteAddress(), link == null ? "" : " (" + link + ")", text);
        ctx.writeAndFlush(frame(ctx, FrameWriter.refusedSize(text), out -> FrameWriter.refused(out, text)))
                .addListener(ChannelFutureListener.CLOSE);
        // A peer that never reads (or a TLS handshake that never ends) must not keep the connection open.
        ctx.executor().schedule(() -> ctx.close(), REFUSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** A buffer of at most {@code size} bytes holding the frame {@code writer} puts into it. */
    private static ByteBuf frame(ChannelHandlerContext ctx, int size, Consumer<ByteBuffer> writer) {
        ByteBuf buf = ctx.alloc().buffer(size);
        ByteBuffer view = buf.nioBuffer(0, size);
        writer.accept(view);
        buf.writerIndex(view.position());
        return buf;
    }

    /** What went wrong in a handshake, without echoing the peer's bytes (they may hold a token sent in clear). */
    private static String tlsProblem(Throwable t) {
        Throwable c = t;
        while (c != null) {
            if (c instanceof io.netty.handler.ssl.NotSslRecordException) {
                return "the peer does not speak TLS (a replayer without TLS settings?)";
            }
            c = c.getCause() == c ? null : c.getCause();
        }
        return rootMessage(t);
    }

    private static String peer(ClientLink link) {
        if (link.channel().remoteAddress() instanceof java.net.InetSocketAddress a && a.getAddress() != null) {
            String host = a.getAddress().getHostAddress();
            return (a.getAddress() instanceof java.net.Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
        }
        return String.valueOf(link.channel().remoteAddress());
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
