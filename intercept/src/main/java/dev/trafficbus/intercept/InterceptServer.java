package dev.trafficbus.intercept;

import dev.trafficbus.cli.UserInputException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The TCP (optionally TLS) listener replayers connect to. The listening socket is created by {@link #bind} on the
 * calling thread, so it belongs to that thread's network namespace.
 */
final class InterceptServer implements AutoCloseable {
    /** A connected replayer gets a PING after this much silence, so dead peers are noticed. */
    static final int PING_SECONDS = 10;
    /**
     * Largest length prefix accepted from a replayer: a HELLO with the longest token and name. Replayers send
     * nothing bigger, so buffering up to the protocol's 1 MiB for a peer that has not even authenticated would only
     * let strangers make intercept hold memory.
     */
    static final int MAX_INBOUND_FRAME = 1 + 2 + 2 + 0xFFFF + 2 + 0xFFFF;

    private final EventLoopGroup group;
    private final ChannelGroup clients = new DefaultChannelGroup("intercept-clients", GlobalEventExecutor.INSTANCE);
    private final boolean nativeTransport;
    private Channel listener;

    InterceptServer() {
        nativeTransport = Epoll.isAvailable();
        IoHandlerFactory io = nativeTransport ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("trafficbus-intercept-io", true), io);
    }

    /** Listens on {@code address}; a port in use or an address not on this host is a user error. */
    InetSocketAddress bind(InetSocketAddress address, SslContext tls, AccessToken token, boolean withPayload,
                           long helloTimeoutMillis, int maxQueue, ResponseRouter router, InterceptCounters counters) {
        Class<? extends ServerChannel> type = nativeTransport ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        clients.add(ch);
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast(tls.newHandler(ch.alloc()));
                        }
                        p.addLast(new LengthFieldBasedFrameDecoder(4 + MAX_INBOUND_FRAME, 0, 4, 0, 0));
                        p.addLast(new IdleStateHandler(0, PING_SECONDS, 0, TimeUnit.SECONDS));
                        p.addLast(new ClientHandler(token, withPayload, helloTimeoutMillis, maxQueue, router, counters));
                    }
                });
        try {
            listener = bootstrap.bind(address).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + address, e);
        } catch (Exception e) {
            String where = "--listen " + address.getHostString() + ":" + address.getPort();
            if (e instanceof BindException || e.getCause() instanceof BindException
                    || String.valueOf(e.getMessage()).contains("in use")) {
                throw new UserInputException(where + ": cannot listen: " + e.getMessage());
            }
            throw new UserInputException(where + ": cannot listen: " + e);
        }
        return (InetSocketAddress) listener.localAddress();
    }

    /** True when epoll is used. */
    boolean nativeTransport() {
        return nativeTransport;
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        // Let queued frames go out before the connections close.
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
