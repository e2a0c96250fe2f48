package dev.trafficbus.standalone;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A real HTTP/1.1 server (JDK) on 127.0.0.1 that records every request it answers; keep-alive like any server. */
final class RecordingHttpServer implements AutoCloseable {
    /** One request as the server saw it; remotePort identifies the replayed connection. */
    record Request(String method, String path, long bodyLength, String bodySha256, int remotePort, long arrivalNanos,
                   String query, Map<String, List<String>> headers) {
        /** The first value of header {@code name} (case-insensitive), or null. */
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private static final byte[] BODY = "ok\n".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final ExecutorService workers = Executors.newFixedThreadPool(4);
    private final List<Request> requests = new ArrayList<>();

    RecordingHttpServer() throws IOException {
        this(null);
    }

    /** Over TLS with {@code tls}'s key and certificate when it is not null. */
    RecordingHttpServer(SSLContext tls) throws IOException {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (tls == null) {
            server = HttpServer.create(any, 128);
        } else {
            HttpsServer https = HttpsServer.create(any, 128);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        }
        server.createContext("/", this::answer);
        server.setExecutor(workers);
        server.start();
    }

    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    synchronized void clear() {
        requests.clear();
    }

    private void answer(HttpExchange exchange) throws IOException {
        long arrival = System.nanoTime();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long length = 0;
        try (exchange; InputStream in = exchange.getRequestBody()) {
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
                length += n;
            }
            synchronized (this) {
                requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(), length,
                        length == 0 ? "-" : HexFormat.of().formatHex(sha.digest()),
                        exchange.getRemoteAddress().getPort(), arrival, exchange.getRequestURI().getRawQuery(),
                        Map.copyOf(exchange.getRequestHeaders())));
            }
            exchange.sendResponseHeaders(200, BODY.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(BODY);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
