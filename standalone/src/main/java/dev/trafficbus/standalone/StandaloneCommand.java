package dev.trafficbus.standalone;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.capture.RedactionOptions;
import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.redact.RedactionRules;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.RunReportWriter;
import dev.trafficbus.replay.TargetAddress;
import dev.trafficbus.replay.tcp.TcpEngineOptions;
import dev.trafficbus.replay.tls.TargetTls;
import dev.trafficbus.replay.tls.TlsOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code trafficbus standalone}: broker, forward and replay in one process, with one summary at the end. */
@Command(name = "standalone",
        header = "All in one: embedded broker, forward a pcap, replay it, print a summary.",
        mixinStandardHelpOptions = true, version = "trafficbus standalone 0.1.0",
        sortOptions = false,
        description = {"Replays a pcap file against a test server through a real Kafka broker embedded in this "
                + "process: the capture's TCP packets of --port are published to tb.capture.<source>, then every "
                + "captured session is replayed as one connection to the target, and a summary is printed.",
            "Packets whose destination port is a --port go client to server; the others of that port come back."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every session was replayed and every message answered", "1:a session failed, a packet "
                + "could not be published, or nothing was replayed", "2:bad input (the summary is still printed for a "
                + "truncated pcap)", "3:sessions ended incomplete (capture gaps) or messages unanswered (no byte came "
                + "back)"})
public final class StandaloneCommand implements Callable<Integer> {
    static final int EXIT_FAILED = 1;

    @Option(names = "--pcap", required = true, paramLabel = "FILE", description = "The capture to replay (pcap or pcapng, gzip-compressed or not; - for standard input).")
    Path pcap;

    @Option(names = "--port", required = true, split = ",", paramLabel = "PORT",
            description = "The service's TCP port(s) in the capture, comma separated.")
    List<Integer> ports;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--target", paramLabel = "HOST:PORT",
                description = "The test server to replay against; https://HOST:PORT speaks TLS to it (the tcp engine "
                        + "then needs intercept --with-payload).")
        String address;

        @Option(names = "--demo-server",
                description = "Replay against a small built-in HTTP server on 127.0.0.1 that answers 200 to "
                        + "everything (for trying trafficbus out).")
        boolean demo;
    }

    @Mixin
    TlsOptions tlsOptions = new TlsOptions();

    @Option(names = "--speed", defaultValue = "1", paramLabel = "FACTOR|max",
            description = "1 keeps the captured gaps from the first session on (the clock starts when the first session is due, not at start-up), 2.5 is 2.5 times faster, max sends as fast as the target "
                    + "answers (default: ${DEFAULT-VALUE}).")
    String speed;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Also write a report to FILE: the HTML page replay --report draws (with the JSON beside "
                    + "it) when FILE ends in .html, else the summary as JSON.")
    Path report;

    @Option(names = "--source", paramLabel = "ID",
            description = "Source id naming the topic tb.capture.<ID> (default: the pcap's file name).")
    String source;

    @Mixin
    TcpEngineOptions tcp = new TcpEngineOptions();

    @Mixin
    RedactionOptions redaction = new RedactionOptions();

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Keep the embedded broker's data here (default: a temporary directory deleted at the end).")
    Path dataDir;

    private final PrintStream out;
    private final PrintStream err;

    /** Prints to System.out/err as they are when the command runs. */
    public StandaloneCommand() {
        this(null, null);
    }

    /** Prints the summary to {@code out} and warnings to {@code err}; null means System.out/err at run time. */
    public StandaloneCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        PrintStream out = this.out != null ? this.out : System.out;
        PrintStream err = this.err != null ? this.err : System.err;
        ReplaySpeed replaySpeed = ReplaySpeed.parse(speed);
        tcp.validate();
        TargetTls tls = tlsOptions.settings(target.address);
        if (tls != null && target.demo) {
            throw new UserInputException("--demo-server speaks plain HTTP: drop the TLS options, or give --target https://HOST:PORT");
        }
        if (tcp.tcpEngine() && target.demo) {
            throw new UserInputException("--engine tcp needs --target: a test server whose answers to --client-range "
                    + "are routed through the intercept host; --demo-server works with the socket engine only");
        }
        Set<Integer> servicePorts = new LinkedHashSet<>(ports);
        PcapForwarder.checkInput(pcap, servicePorts); // before the broker's few seconds of start-up
        String sourceId = source != null ? source : PcapForwardRequest.sourceFromFileName(pcap);
        try {
            Topics.capture(sourceId);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--" + e.getMessage());
        }
        checkReportPath(report);
        RedactionRules rules = redaction.rules();
        try (DemoHttpServer demo = target.demo ? DemoHttpServer.start() : null) {
            InetSocketAddress targetAddress = demo != null ? demo.address() : TargetAddress.parse(target.address);
            TlsOptions.check(tls, java.time.Duration.ofSeconds(5));
            TargetAddress.checkReachable(targetAddress, 5000,
                    "start the test server, fix the address, or use --demo-server");
            StandaloneRun run = new StandaloneRun(new StandaloneRequest(pcap, servicePorts, sourceId, targetAddress,
                    replaySpeed, dataDir, true, tcp, report != null && RunReportWriter.isHtml(report), rules, tls));
            CountDownLatch reported = new CountDownLatch(1);
            Thread hook = stopHook(run, reported);
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                StandaloneResult result = run.run();
                int exit = exitCode(result);
                StandaloneReport.lines(result).forEach(out::println);
                if (demo != null) {
                    out.println("  demo server answered " + demo.requests() + " requests");
                }
                out.flush();
                if (report != null) {
                    StandaloneReport.write(report, result, exit);
                }
                if (!result.forward().fileComplete()) {
                    err.println("trafficbus standalone: " + pcap + " " + result.forward().fileProblem()
                            + "; replayed what was complete");
                } else if (result.failure() != null) {
                    err.println("trafficbus standalone: " + result.failure());
                } else if (result.replay().incompleteness() != null) {
                    err.println("trafficbus standalone: " + result.replay().incompleteness());
                }
                err.flush();
                return exit;
            } finally {
                reported.countDown();
                removeQuietly(hook);
            }
        } catch (IllegalStateException e) {
            err.println("trafficbus standalone: " + e.getMessage());
            return EXIT_FAILED;
        }
    }

    /**
     * Ctrl-C or SIGTERM stops the replay gracefully and holds the JVM's exit until the summary of what was done
     * is printed and the broker stopped (the JVM halts as soon as its shutdown hooks return).
     */
    private static Thread stopHook(StandaloneRun run, CountDownLatch reported) {
        return new Thread(() -> {
            run.stop();
            try {
                reported.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-standalone-stop");
    }

    private static void removeQuietly(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting: the hook is running and waited for the summary
        }
    }

    /** A report that cannot be written should fail now, not after the whole run. */
    private static void checkReportPath(Path file) {
        if (file == null) {
            return;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (Files.isDirectory(file) || (parent != null && Files.exists(parent) && !Files.isWritable(parent))
                || (parent != null && Files.exists(parent) && !Files.isDirectory(parent))) {
            throw new UserInputException("cannot write the report to " + file);
        }
    }

    static int exitCode(StandaloneResult result) {
        if (!result.forward().fileComplete()) {
            return CommandRunner.EXIT_USER_ERROR;
        }
        if (result.failure() != null) {
            return EXIT_FAILED;
        }
        return result.replay().exitCode() == ReplaySummary.EXIT_INCOMPLETE ? ReplaySummary.EXIT_INCOMPLETE : 0;
    }
}
