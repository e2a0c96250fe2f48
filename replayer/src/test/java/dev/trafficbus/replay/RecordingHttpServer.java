package dev.trafficbus.replay;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small real HTTP/1.1 server on loopback, one thread per connection: reads each request (Content-Length
 * bodies), remembers it in arrival order with the time its last byte was read, and answers 200 with
 * {@link #ANSWER_BODY_BYTES} bytes in a single write, keeping the connection open unless asked to close.
 * Answering in one write keeps the engine's answer detection exact (a server that pauses mid-answer for
 * longer than the quiet period is, by design, taken as done).
 */
public final class RecordingHttpServer implements AutoCloseable {
    /** One request as the server saw it: the client port identifies the connection. */
    public record Request(int clientPort, String method, String path, byte[] body, long arrivedNanos, List<String> headers) {
        /** The value of header {@code name} (case-insensitive), or null. */
        String header(String name) {
            for (String h : headers) {
                int colon = h.indexOf(':');
                if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return h.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    static final int ANSWER_BODY_BYTES = 2;
    private static final byte[] ANSWER = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + ANSWER_BODY_BYTES + "\r\n\r\nok").getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket server;
    private final List<Socket> sockets = new ArrayList<>();
    public final List<Request> requests = new CopyOnWriteArrayList<>();

    public RecordingHttpServer() throws IOException {
        server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "recording-http-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /** Size in bytes of every answer. */
    public int answerSize() {
        return ANSWER.length;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                synchronized (sockets) {
                    sockets.add(s);
                }
                Thread t = new Thread(() -> serve(s), "recording-http-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                String requestLine = line(in);
                if (requestLine == null) {
                    return;
                }
                int length = 0;
                boolean close = false;
                String header;
                List<String> headers = new ArrayList<>();
                while ((header = line(in)) != null && !header.isEmpty()) {
                    headers.add(header);
                    String h = header.toLowerCase(Locale.ROOT);
                    if (h.startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).trim());
                    } else if (h.startsWith("connection:") && h.contains("close")) {
                        close = true;
                    }
                }
                byte[] body = in.readNBytes(length);
                String[] parts = requestLine.split(" ");
                requests.add(new Request(s.getPort(), parts[0], parts.length > 1 ? parts[1] : "", body,
                        System.nanoTime(), headers));
                out.write(ANSWER);
                out.flush();
                if (close) {
                    return;
                }
            }
        } catch (IOException e) {
            // the replay closed or reset the connection
        }
    }

    /** One CRLF-terminated line without the CRLF, or null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (sockets) {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
