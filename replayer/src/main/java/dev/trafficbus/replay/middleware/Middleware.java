package dev.trafficbus.replay.middleware;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.intake.ReplayCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A GoReplay-compatible middleware program, started once per run with {@code sh -c COMMAND}: every request is
 * written to its stdin as one hex-encoded line (header {@code 1 ID TIMESTAMP_NS}, a newline, then the request
 * bytes); what it writes back on stdout with the same id is sent instead. Its stderr goes to the log. With
 * {@code responses}, it is also given, under the request's id, the production answer from the capture (type 2) and
 * the test server's answer (type 3), as GoReplay's {@code --input-raw-track-response} and
 * {@code --output-http-track-response} do: header {@code 2 ID TIMESTAMP_NS LATENCY_NS}. Answers it writes back are
 * read and not sent anywhere.
 *
 * <p>A middleware is read as answering in the order it was fed (as GoReplay's examples do), and a request it
 * leaves out is simply never returned (GoReplay's rule). A request waits at most the timeout and is then not sent;
 * why is decided once known: when a request fed after it comes back, it was left out ({@code middleware-dropped});
 * if nothing fed after it ever comes back (a hung program), or it comes back late, {@code middleware-timeout}. When
 * the program exits, the requests waiting and every request from then on are {@code middleware-exited}, and
 * {@code onExit} is told (the run stops).
 */
public final class Middleware implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Middleware.class);
    private static final HexFormat HEX = HexFormat.of();
    /** Written to the writer queue to end the writer thread. */
    private static final byte[] END = new byte[0];

    /** What became of one request. */
    public sealed interface Outcome permits Passed, Lost {
    }

    /** The bytes to send instead of the captured request; {@code id} names it in the answers handed on. */
    public record Passed(byte[] bytes, long id) implements Outcome {
    }

    /** Not to be sent, counted under {@code reason}; {@code id} names it (0 when it was never fed). */
    public record Lost(ReplayProblem reason, long id) implements Outcome {
    }

    /** Whose answer a response line carries (the header's first field). */
    public enum Answer {
        /** The answer production gave, from the capture. */
        ORIGINAL('2'),
        /** The answer the test server gave. */
        REPLAYED('3');

        final char type;

        Answer(char type) {
            this.type = type;
        }
    }

    private static final Lost DROPPED = new Lost(ReplayProblem.MIDDLEWARE_DROPPED, 0);
    private static final Lost EXITED = new Lost(ReplayProblem.MIDDLEWARE_EXITED, 0);
    /** Waited the timeout: not sent, the reason is decided later. */
    private static final Lost WAITED = new Lost(ReplayProblem.MIDDLEWARE_TIMEOUT, 0);

    private final String command;
    private final long timeoutNanos;
    private final boolean responses;
    private final ReplayCounters counters;
    private final Process process;
    private final BlockingQueue<byte[]> lines = new LinkedBlockingQueue<>();
    /** Requests fed whose fate is not decided yet: still waiting, or waited out ({@link #WAITED}). */
    private final ConcurrentSkipListMap<Long, CompletableFuture<Outcome>> pending = new ConcurrentSkipListMap<>();
    private long nextId;
    private volatile boolean exited;
    private volatile boolean closing;
    private final Thread stderr;

    private Middleware(MiddlewareCommand command, ReplayCounters counters, Process process, Runnable onExit) {
        this.command = command.command();
        this.timeoutNanos = command.timeout().toNanos();
        this.responses = command.responses();
        this.counters = counters;
        this.process = process;
        daemon("middleware-stdin", this::writeLoop);
        daemon("middleware-stdout", () -> readLoop(onExit));
        this.stderr = daemon("middleware-stderr", this::logStderr);
    }

    /**
     * Starts {@code sh -c command}; {@code onExit} runs once if the program ends before {@link #close()}.
     *
     * @throws IOException when the shell cannot be started
     */
    public static Middleware start(MiddlewareCommand command, ReplayCounters counters, Runnable onExit)
            throws IOException {
        Process p = new ProcessBuilder("sh", "-c", command.command()).start();
        log.info("middleware started: {} (pid {}{})", command.command(), p.pid(),
                command.responses() ? ", given the answers too" : "");
        return new Middleware(command, counters, p, onExit);
    }

    /** True when the program is to be given the answers ({@code --middleware-responses}). */
    public boolean wantsResponses() {
        return responses;
    }

    /**
     * Hands the program {@code answer} to request {@code id} (as returned in {@link Passed} or {@link Lost}), captured or
     * received at {@code tsNanos} (epoch), {@code latencyNanos} after its request. Does not wait; nothing when the
     * program is not given answers, the id is 0 or the program is gone.
     */
    public void response(Answer answer, long id, byte[] raw, long tsNanos, long latencyNanos) {
        if (!responses || id == 0 || exited || closing) {
            return;
        }
        lines.add(encode(answer.type + " " + id(id) + " " + tsNanos + " " + Math.max(0, latencyNanos), raw));
    }

    /**
     * Feeds one request (captured at {@code tsMicros}); the future completes with what the middleware makes of it,
     * on the thread that learns it, at the latest after the timeout. It never blocks the caller: requests of many
     * sessions are with the program at once, as GoReplay feeds it. A request lost is counted once its reason is
     * known.
     */
    public CompletableFuture<Outcome> request(byte[] message, long tsMicros) {
        if (exited) {
            counters.problem(ReplayProblem.MIDDLEWARE_EXITED);
            return CompletableFuture.completedFuture(EXITED);
        }
        CompletableFuture<Outcome> answer = new CompletableFuture<>();
        long id;
        synchronized (this) {
            // Ids and queue order agree, so "a later id came back" means this one was left out.
            id = ++nextId;
            pending.put(id, answer);
            lines.add(encode(id, tsMicros * 1000L, message));
        }
        answer.completeOnTimeout(WAITED, timeoutNanos, TimeUnit.NANOSECONDS);
        return answer.thenApply(o -> o instanceof Lost l ? new Lost(l.reason(), id) : o);
    }

    /** Request {@code id} is decided as lost for {@code reason}: counted once, its waiter (if any) told. */
    private void decide(long id, Lost reason) {
        CompletableFuture<Outcome> f = pending.remove(id);
        if (f != null) {
            f.complete(reason);
            counters.problem(reason.reason());
        }
    }

    /** Every request still undecided: {@code waiting} for those still waiting, timeout for those waited out. */
    private void decideAll(Lost waiting) {
        for (Map.Entry<Long, CompletableFuture<Outcome>> e : pending.entrySet()) {
            decide(e.getKey(), e.getValue().isDone() ? WAITED : waiting);
        }
    }

    /**
     * True when {@code m} begins like an HTTP/1.x request line (a method in capitals, a space): only such
     * messages are fed, not body continuations or other protocols, which a GoReplay middleware cannot read.
     */
    public static boolean startsRequest(byte[] m) {
        int i = 0;
        while (i < m.length && i < 16 && m[i] >= 'A' && m[i] <= 'Z') {
            i++;
        }
        return i >= 3 && i < m.length && m[i] == ' ';
    }

    /** One hex line: {@code 1 ID TS\n} and the message. */
    static byte[] encode(long id, long tsNanos, byte[] message) {
        return encode("1 " + id(id) + " " + tsNanos, message);
    }

    /** One hex line: the header, a newline, the payload. */
    private static byte[] encode(String header, byte[] message) {
        byte[] head = (header + "\n").getBytes(StandardCharsets.US_ASCII);
        StringBuilder b = new StringBuilder((head.length + message.length) * 2 + 1);
        HEX.formatHex(b, head);
        HEX.formatHex(b, message);
        return b.append('\n').toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** A request's id on the wire: 24 hex digits, like the hex ids GoReplay writes. */
    static String id(long n) {
        return String.format("%024x", n);
    }

    private void writeLoop() {
        OutputStream in = process.getOutputStream();
        try (in) {
            while (true) {
                byte[] line = lines.take();
                if (line == END) {
                    return;
                }
                in.write(line);
                if (lines.isEmpty()) {
                    in.flush();
                }
            }
        } catch (IOException e) {
            if (!closing) {
                log.warn("middleware '{}' no longer reads its input: {}", command, e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void readLoop(Runnable onExit) {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII), 1 << 16)) {
            String line;
            while ((line = out.readLine()) != null) {
                answer(line.trim());
            }
        } catch (IOException e) {
            log.debug("middleware output ended: {}", e.getMessage());
        }
        exited = true;
        decideAll(closing ? WAITED : EXITED);
        if (!closing) {
            counters.problem(ReplayProblem.MIDDLEWARE_EXITED); // the exit itself, also when nothing was waiting
            int status = waitFor();
            log.error("middleware '{}' exited (status {}): the replay stops; requests from now on are counted "
                    + "middleware-exited", command, status);
            onExit.run();
        }
    }

    /** One line the middleware wrote: a message it passed on, or something we cannot read (logged). */
    private void answer(String line) {
        if (line.isEmpty()) {
            return;
        }
        byte[] decoded;
        try {
            decoded = HEX.parseHex(line);
        } catch (IllegalArgumentException e) {
            log.warn("middleware wrote a line that is not hex, ignored: {}", abbreviate(line));
            return;
        }
        int nl = indexOf(decoded, (byte) '\n');
        String[] head = new String(decoded, 0, Math.max(nl, 0), StandardCharsets.US_ASCII).split(" ");
        if (nl < 0 || head.length < 2) {
            log.warn("middleware wrote a message without a 'type id timestamp' header line, ignored");
            return;
        }
        if (!head[0].equals("1")) {
            return; // responses handed back (GoReplay asks for it) are not sent anywhere
        }
        long id;
        try {
            id = Long.parseLong(head[1], 16);
        } catch (NumberFormatException e) {
            log.warn("middleware returned a request with an id it was not given: {}", head[1]);
            return;
        }
        byte[] body = new byte[decoded.length - nl - 1];
        System.arraycopy(decoded, nl + 1, body, 0, body.length);
        // Every request fed before this one and still undecided was left out by the middleware.
        for (Long earlier : pending.headMap(id).keySet()) {
            decide(earlier, DROPPED);
        }
        CompletableFuture<Outcome> f = pending.remove(id);
        if (f == null) {
            log.debug("middleware returned request {} after it was counted lost", head[1]);
        } else if (!f.complete(new Passed(body, id))) {
            counters.problem(ReplayProblem.MIDDLEWARE_TIMEOUT); // came back after the wait: not sent
        }
    }

    private void logStderr() {
        try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                log.info("middleware: {}", line);
            }
        } catch (IOException e) {
            // the program is gone
        }
    }

    private int waitFor() {
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static int indexOf(byte[] b, byte c) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Ends the program: its input is closed, then it is asked to stop, then killed (with what it started). */
    @Override
    public void close() {
        closing = true;
        lines.add(END);
        try {
            if (!process.waitFor(1, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroy);
                process.destroy();
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                }
            }
            stderr.join(1000); // what it wrote last reaches the log before the run's summary
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        decideAll(WAITED);
        log.info("middleware stopped: {}", command);
    }
}
