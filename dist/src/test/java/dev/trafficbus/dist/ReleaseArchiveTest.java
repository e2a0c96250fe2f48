package dev.trafficbus.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The release archive as a user gets it: unpacked into a temporary directory outside the checkout and run with a
 * PATH that has no Maven, so nothing can be built; every command must run from its jars alone.
 */
class ReleaseArchiveTest {
    static final List<String> COMMANDS = List.of("forward", "process", "subscribe", "unsubscribe", "subscriptions",
            "replay", "intercept", "export", "diff", "status", "broker", "acls", "standalone");

    static final List<String> MODULES = List.of("capture-forwarder", "processor", "replayer", "intercept", "archive",
            "status", "standalone");

    static Path scratch;
    static Path home;
    static Map<String, String> environment;

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of(System.getProperty("trafficbus.archive"));
        assertThat(archive).as("the archive 'mvn package' builds").isRegularFile();
        scratch = Files.createTempDirectory("tb-release-");
        assertThat(scratch.toRealPath().startsWith(Path.of("..").toRealPath())).as("unpacked outside the checkout")
                .isFalse();
        CommandRun.Result untar = CommandRun.run(List.of("tar", "-xzf", archive.toString(), "-C", scratch.toString()),
                scratch, Map.of(), Duration.ofMinutes(2));
        assertThat(untar.exitCode()).as(untar.output()).isZero();
        home = scratch.resolve("trafficbus-" + System.getProperty("trafficbus.version"));
        environment = Map.of("PATH", MavenFreePath.create(scratch));
        CommandRun.Result which = CommandRun.run(List.of("sh", "-c", "command -v mvn || echo none"), scratch,
                environment, Duration.ofSeconds(10));
        assertThat(which.output().strip()).as("Maven is off the PATH").isEqualTo("none");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (scratch != null) {
            try (Stream<Path> files = Files.walk(scratch)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void holdsTheLauncherTheDocsAndTheExampleConfigs() {
        assertThat(home.resolve("bin/trafficbus")).isExecutable();
        for (String doc : List.of("README.md", "docs/deploy.md", "docs/intercept.md", "docs/archive.md",
                "examples/capture.pcap", "processor/README.md", "deploy/forward.yaml", "deploy/process.yaml",
                "deploy/replay.yaml", "deploy/intercept.yaml", "deploy/subscriptions.yaml")) {
            assertThat(home.resolve(doc)).as(doc).isRegularFile();
        }
        assertThat(home.resolve("deploy/secrets")).as("no example secrets in a release").doesNotExist();
    }

    @Test
    void everyModuleFindsItsWholeClasspathInLib() throws IOException {
        Path lib = home.resolve("lib");
        List<String> missing = new ArrayList<>();
        for (String module : MODULES) {
            assertThat(lib.resolve("trafficbus-" + module + "-" + System.getProperty("trafficbus.version") + ".jar"))
                    .isRegularFile();
            String classpath = Files.readString(lib.resolve(module + ".classpath")).strip();
            assertThat(classpath).as(module + ".classpath").contains("lib/trafficbus-schemas-", "lib/trafficbus-cli-");
            for (String entry : classpath.split(":")) {
                if (!Files.isRegularFile(home.resolve(entry))) {
                    missing.add(module + " -> " + entry);
                }
            }
        }
        assertThat(missing).as("classpath entries missing from lib/").isEmpty();
    }

    @Test
    void everyCommandRunsItsHelp() throws Exception {
        for (String command : COMMANDS) {
            CommandRun.Result help = trafficbus(Duration.ofMinutes(1), command, "--help");
            assertThat(help.exitCode()).as(command + " --help:\n" + help.output()).isZero();
            assertThat(help.output()).as(command).contains("Usage").doesNotContain("building");
        }
        // The root command lists what it finds on the classpath: exactly the commands the launcher maps to modules.
        CommandRun.Result list = trafficbus(Duration.ofSeconds(30), "help");
        assertThat(list.exitCode()).as(list.output()).isZero();
        List<String> listed = list.output().lines().filter(line -> line.matches("  [a-z]+ +\\S.*"))
                .map(line -> line.trim().split(" +")[0]).toList();
        List<String> expected = new ArrayList<>(COMMANDS);
        expected.add("help");
        assertThat(listed).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void aForwardMakesItsClassArchiveOnceThenMapsItButNotForHelpOrBesideAnAgent() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "a live forward on lo needs root (CI runs as root)");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path brokerLog = scratch.resolve("archive-broker.log");
        Process broker = CommandRun.start(List.of(home.resolve("bin/trafficbus").toString(), "broker", "--listen",
                "127.0.0.1:" + port), scratch, environment, brokerLog);
        try {
            awaitLine(broker, brokerLog, "broker ready at 127.0.0.1:" + port);
            Path cache = Files.createDirectories(scratch.resolve("class-archives"));
            Map<String, String> env = new HashMap<>(environment);
            env.put("TRAFFICBUS_CACHE_DIR", cache.toString());
            CommandRun.Result help = CommandRun.run(List.of(home.resolve("bin/trafficbus").toString(), "forward",
                    "--help"), scratch, env, Duration.ofMinutes(1));
            assertThat(help.exitCode()).as(help.output()).isZero();
            assertThat(fileNames(cache)).as("help archives nothing").isEmpty();

            List<String> forward = List.of(home.resolve("bin/trafficbus").toString(), "forward", "--interface", "lo",
                    "--port", "1", "--source", "archive", "--bootstrap-servers", "127.0.0.1:" + port,
                    "--status-interval", "0");
            runUntilCapturing(forward, env, "making");
            assertThat(fileNames(cache)).as("made by the first run as it ended, named by its process")
                    .singleElement(STRING).matches("forward-[0-9]+\\.jsa\\.[0-9]+");
            String made = fileNames(cache).get(0);
            assertThat(Files.size(cache.resolve(made))).as("a whole forward's classes").isGreaterThan(6L << 20);
            String maps = runUntilCapturing(forward, env, "mapping");
            String adopted = made.substring(0, made.lastIndexOf('.'));
            assertThat(fileNames(cache)).as("adopted once its maker had gone").containsExactly(adopted);
            assertThat(maps).as("the second run maps it").contains(cache.resolve(adopted).toString());

            // A JVM making an archive refuses to start beside a native agent (here the JDK's debugger).
            Path other = Files.createDirectories(scratch.resolve("class-archives-agent"));
            env.put("TRAFFICBUS_CACHE_DIR", other.toString());
            env.put("JAVA_OPTS", "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:0");
            runUntilCapturing(forward, env, "agent");
            assertThat(fileNames(other)).isEmpty();
        } finally {
            broker.destroy();
            if (!broker.waitFor(1, TimeUnit.MINUTES)) {
                broker.destroyForcibly();
            }
        }
    }

    /** Starts {@code command}, waits until it captures, stops it with SIGTERM; returns its /proc maps while it ran. */
    private static String runUntilCapturing(List<String> command, Map<String, String> env, String name)
            throws Exception {
        Path log = scratch.resolve("forward-" + name + ".log");
        Process p = CommandRun.start(command, scratch, env, log);
        try {
            awaitLine(p, log, "capturing on lo");
            String maps = Files.readString(Path.of("/proc/" + p.pid() + "/maps"));
            p.destroy();
            assertThat(p.waitFor(1, TimeUnit.MINUTES)).as("forward stops on SIGTERM").isTrue();
            assertThat(Files.readString(log)).as(name).doesNotContain("CDS").doesNotContain("[cds");
            return maps;
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void awaitLine(Process p, Path log, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!Files.readString(log).contains(line)) {
            assertThat(p.isAlive()).as("still running, waiting for '%s':%n%s", line, Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as("'%s' within 2 minutes:%n%s", line, Files.readString(log))
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replaysTheExampleCaptureAgainstTheDemoServer() throws Exception {
        CommandRun.Result run = trafficbus(Duration.ofMinutes(4), "standalone",
                "--pcap", home.resolve("examples/capture.pcap").toString(), "--port", "8080", "--demo-server",
                "--speed", "max");
        System.out.printf("standalone from the archive took %.1f s%n", run.took().toMillis() / 1000.0);
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).doesNotContain("building").containsPattern("sessions +16 seen, 16 replayed, 0 incomplete, 0 failed");
    }

    @Test
    void runsABrokerUntilItsProcessIsStopped() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path log = scratch.resolve("broker.log");
        Process broker = CommandRun.start(List.of(home.resolve("bin/trafficbus").toString(), "broker", "--listen",
                "127.0.0.1:" + port), scratch, environment, log);
        try {
            // Ready is when it says so (its shutdown hook is in place by then) and the port takes connections.
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            boolean listening = false;
            while (!listening && broker.isAlive() && System.nanoTime() < deadline) {
                listening = Files.readString(log).contains("broker ready at 127.0.0.1:" + port) && accepts(port);
                if (!listening) {
                    Thread.sleep(250);
                }
            }
            assertThat(listening).as("broker listens on 127.0.0.1:%d; its output:%n%s", port, Files.readString(log))
                    .isTrue();
            // The launcher execs java, so the process started is the broker's JVM: SIGTERM to that PID stops it.
            ProcessHandle.of(broker.pid()).orElseThrow().destroy();
            assertThat(broker.waitFor(1, TimeUnit.MINUTES)).as("broker stops on SIGTERM").isTrue();
            assertThat(Files.readString(log)).contains("broker stopped");
            assertThat(accepts(port)).as("port closed after the stop").isFalse();
        } finally {
            broker.destroyForcibly();
            broker.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    private static CommandRun.Result trafficbus(Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/trafficbus").toString());
        command.addAll(List.of(args));
        return CommandRun.run(command, scratch, environment, timeout);
    }
}
