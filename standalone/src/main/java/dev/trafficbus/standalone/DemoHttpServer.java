package dev.trafficbus.standalone;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HTTP/1.1 server on 127.0.0.1 for trying trafficbus out without a test server of one's own: it reads
 * every request body and answers 200 "ok" on a kept-alive connection. Not a server to test anything with.
 */
public final class DemoHttpServer implements AutoCloseable {
    private static final byte[] BODY = "ok\n".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final ExecutorService workers;
    private final AtomicLong requests = new AtomicLong();

    private DemoHttpServer(HttpServer server, ExecutorService workers) {
        this.server = server;
        this.workers = workers;
    }

    /** Starts on a free port of 127.0.0.1. */
    public static DemoHttpServer start() {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the demo server on 127.0.0.1", e);
        }
        ExecutorService workers = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "trafficbus-demo-server");
            t.setDaemon(true);
            return t;
        });
        DemoHttpServer demo = new DemoHttpServer(server, workers);
        server.createContext("/", demo::answer);
        server.setExecutor(workers);
        server.start();
        return demo;
    }

    /** Where it listens. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Requests answered so far. */
    public long requests() {
        return requests.get();
    }

    private void answer(HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            in.transferTo(OutputStream.nullOutputStream());
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, BODY.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(BODY);
            }
            requests.incrementAndGet();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
