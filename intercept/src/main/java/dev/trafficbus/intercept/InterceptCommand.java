package dev.trafficbus.intercept;

import dev.trafficbus.cli.DurationConverter;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.metrics.MetricsEndpoint;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code trafficbus intercept}: captures the test server's responses and relays their headers to the replayers. */
@Command(name = "intercept",
        header = "Relay a test server's responses to the tcp-engine replayers (assistant host).",
        mixinStandardHelpOptions = true, versionProvider = InterceptCommand.Version.class,
        sortOptions = false,
        description = {
            "Runs on the assistant host (ip_forward=0) that the test server routes the replayers' fake client range"
                + " through, or on the test server itself. Captures the test server's responses with libpcap and relays"
                + " their IP+TCP headers to the replayer that registered the destination address.",
            "Replayers connect to --listen, present the token of --token-file and register their address ranges."
                + " Responses without a route wait --hold-time, then are dropped and counted (no-route).",
            "Runs until SIGINT/SIGTERM, then prints the counters. Exit codes: 0 stopped, 1 the capture failed, 2 bad input."
        })
public final class InterceptCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(InterceptCommand.class);
    /** Exit code when the capture stopped on its own (e.g. the interface went away). */
    public static final int EXIT_CAPTURE_FAILED = 1;

    @Spec
    private CommandSpec spec;

    @Option(names = "--interface", required = true, paramLabel = "IF",
            description = "Interface the test server's responses arrive on (e.g. eth0); needs root or CAP_NET_RAW.")
    private String interfaceName;

    @Option(names = "--filter", paramLabel = "BPF",
            description = "BPF expression (tcpdump syntax) selecting the responses, e.g. 'tcp and src port 80'"
                    + " (default: ${DEFAULT-VALUE}).")
    private String filter = "tcp";

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Address replayers connect to (default: ${DEFAULT-VALUE}).")
    private String listen = "0.0.0.0:" + InterceptFrames.DEFAULT_PORT;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the shared token replayers must present; required unless --no-auth.")
    private Path tokenFile;

    @Option(names = "--no-auth",
            description = "Accept replayers without a token (only on a network you trust).")
    private boolean noAuth;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate (chain) to serve TLS with; needs --tls-key.")
    private Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key (PKCS#8) of --tls-cert.")
    private Path tlsKey;

    @Option(names = "--with-payload",
            description = "Relay the responses' TCP payload too, not only their headers.")
    private boolean withPayload;

    @Option(names = "--hold-time", paramLabel = "DURATION", defaultValue = "500ms", converter = DurationConverter.class,
            description = "How long a response waits for a replayer to register its destination, e.g. 500ms; 0 drops"
                    + " at once (default: ${DEFAULT-VALUE}).")
    private Duration holdTime;

    @Option(names = "--max-queue", paramLabel = "PACKETS",
            description = "Packets that may wait for one replayer connection; more are dropped and counted"
                    + " (queue-full) (default: ${DEFAULT-VALUE}).")
    private int maxQueue = 65536;

    @Option(names = "--status-interval", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "Period of the status log line, e.g. 10s; 0 for none (default: ${DEFAULT-VALUE}).")
    private Duration statusInterval;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus metrics on http://*:PORT/metrics and /health (default: none).")
    private Integer metricsPort;

    @Override
    public Integer call() throws Exception {
        InterceptSettings settings = settings();
        InterceptCounters counters = new InterceptCounters();
        MetricsEndpoint metrics = new MetricsEndpoint("intercept");
        counters.export(metrics);
        try {
            if (metricsPort != null) {
                if (metricsPort < 0 || metricsPort > 65535) {
                    throw new UserInputException("--metrics-port " + metricsPort + " is not a TCP port (0-65535)");
                }
                metrics.serve(metricsPort);
            }
            Intercept intercept = Intercept.start(settings, counters);
            metrics.health(() -> intercept.failure() == null, "capture on " + settings.interfaceName());
            metrics.gauge("packets_held_now", intercept, Intercept::heldNow);
            metrics.gauge("packets_queued_now", intercept, Intercept::queuedNow);
            // Lost in the kernel before libpcap read them, so outside captured = relayed + dropped.
            metrics.functionCounter("capture_kernel_dropped", intercept, i -> Math.max(0, i.kernelDrops()));
            return runUntilStopped(intercept);
        } finally {
            metrics.close();
        }
    }

    /** Blocks until SIGINT/SIGTERM or a capture failure; the stop hook waits until the counters are printed. */
    private int runUntilStopped(Intercept intercept) throws InterruptedException {
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            intercept.stop();
            try {
                reported.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-intercept-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        // Only now: a SIGTERM sent as soon as this line appears must find the hook that prints the counters.
        LOG.info(intercept.description());
        try {
            while (!intercept.awaitCaptureEnd(Duration.ofSeconds(1))) {
                // wait: the capture ends on stop or on failure
            }
            intercept.stop();
            PrintWriter out = spec.commandLine().getOut();
            out.println("intercept: " + intercept.statusLine());
            out.flush();
            if (intercept.failure() != null) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("trafficbus intercept: capture on " + interfaceName + " failed: "
                        + intercept.failure().getMessage());
                err.flush();
                return EXIT_CAPTURE_FAILED;
            }
            return 0;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is running and now returns.
            }
        }
    }

    InterceptSettings settings() {
        AccessToken token;
        if (tokenFile != null && noAuth) {
            throw new UserInputException("--token-file and --no-auth contradict each other; give one");
        }
        if (tokenFile == null && !noAuth) {
            throw new UserInputException("--token-file FILE is required (or --no-auth to accept replayers without a token)");
        }
        token = tokenFile == null ? null : AccessToken.fromFile(tokenFile, "--token-file");
        if (filter == null || filter.isBlank()) {
            throw new UserInputException("--filter must not be empty (default: tcp)");
        }
        if (maxQueue < 1) {
            throw new UserInputException("--max-queue " + maxQueue + " must be at least 1");
        }
        Duration hold = holdTime;
        Duration status = statusInterval;
        return new InterceptSettings(interfaceName, filter, listenAddress(listen), token, tls(), withPayload, hold,
                maxQueue, status, Duration.ofSeconds(10));
    }

    private SslContext tls() {
        if (tlsCert == null && tlsKey == null) {
            return null;
        }
        if (tlsCert == null || tlsKey == null) {
            throw new UserInputException(tlsCert == null ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
        }
        for (Path p : new Path[] {tlsCert, tlsKey}) {
            if (!Files.isReadable(p)) {
                throw new UserInputException((p == tlsCert ? "--tls-cert " : "--tls-key ") + p
                        + ": no such file or not readable");
            }
        }
        try {
            return SslContextBuilder.forServer(tlsCert.toFile(), tlsKey.toFile()).build();
        } catch (Exception e) {
            throw new UserInputException("--tls-cert " + tlsCert + " / --tls-key " + tlsKey
                    + ": not a PEM certificate and PKCS#8 key pair (" + e.getMessage() + ")");
        }
    }

    /** Parses {@code HOST:PORT} or {@code [IPv6]:PORT}; a bare port listens on all addresses. */
    static InetSocketAddress listenAddress(String text) {
        String t = text.trim();
        String host = "0.0.0.0";
        String port = t;
        int colon = t.lastIndexOf(':');
        if (colon >= 0) {
            host = t.substring(0, colon).replace("[", "").replace("]", "");
            port = t.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new UserInputException("--listen " + text + ": expected HOST:PORT, e.g. 0.0.0.0:" + InterceptFrames.DEFAULT_PORT);
        }
        if (p < 0 || p > 65535) {
            throw new UserInputException("--listen " + text + ": port " + p + " is not a TCP port");
        }
        InetSocketAddress address = new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, p);
        if (address.isUnresolved()) {
            throw new UserInputException("--listen " + text + ": unknown host " + host);
        }
        return address;
    }

    /** The version from the jar manifest. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = InterceptCommand.class.getPackage().getImplementationVersion();
            return new String[] {"trafficbus intercept " + (v != null ? v : "(development build)")};
        }
    }
}
