package dev.trafficbus.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Installs the .deb on this machine as an administrator would, runs the installed command, removes and purges the
 * package, and checks that nothing of it is left. Needs root (dpkg -i); runs only on a machine where trafficbus is
 * not installed and no trafficbus user exists, and puts the machine back as it found it, also when it fails.
 */
class DebianPackageInstallTest {
    static final Path OPT = Path.of("/opt/trafficbus");
    static final Path COMMAND = Path.of("/usr/bin/trafficbus");
    static final Path UNIT_DIR = Path.of("/lib/systemd/system");
    static final Path STATE = Path.of("/var/lib/trafficbus");
    static final Path ETC = Path.of("/etc/trafficbus");

    Path scratch;

    @BeforeEach
    void onlyOnAMachineWithoutTrafficbus() throws Exception {
        assumeTrue(run("id", "-u").output().strip().equals("0"),
                "installing a Debian package needs root (dpkg -i); run the tests as root, as CI does");
        assumeTrue(run("sh", "-c", "command -v dpkg && command -v systemd-analyze").exitCode() == 0,
                "needs dpkg and systemd-analyze (Debian package systemd; bin/test installs it)");
        assumeTrue(run("dpkg-query", "-W", "trafficbus").exitCode() != 0,
                "a trafficbus package is known to dpkg on this machine; the test does not touch an existing install");
        assumeTrue(!exists("passwd") && !exists("group"),
                "a trafficbus user or group exists; the package's purge would remove it");
        for (Path path : List.of(OPT, COMMAND, STATE, ETC)) {
            assumeTrue(!Files.exists(path, LinkOption.NOFOLLOW_LINKS), path + " exists; the test would remove it");
        }
        scratch = Files.createTempDirectory("tb-deb-install-");
    }

    @AfterEach
    void leaveTheMachineAsFound() throws Exception {
        if (scratch == null) {
            return;
        }
        if (run("dpkg-query", "-W", "trafficbus").exitCode() == 0) {
            run("dpkg", "--purge", "trafficbus");
        }
        if (exists("passwd")) {
            run("userdel", "trafficbus");
        }
        if (exists("group")) {
            run("groupdel", "trafficbus");
        }
        for (Path path : List.of(STATE, ETC)) {
            delete(path);
        }
        delete(scratch);
    }

    @Test
    void installsVerifiesRunsAndRemovesWithoutATrace() throws Exception {
        CommandRun.Result install = run(Duration.ofMinutes(3), "dpkg", "-i", DebianPackage.file().toString());
        assertThat(install.exitCode()).as(install.output()).isZero();
        assertThat(exists("passwd")).as("postinst made the trafficbus user").isTrue();
        assertThat(run("getent", "passwd", "trafficbus").output()).contains(":/var/lib/trafficbus:/usr/sbin/nologin");
        assertThat(COMMAND.toRealPath()).isEqualTo(OPT.resolve("bin/trafficbus"));

        // verify reads each unit as systemd would (an instance for the templates) and checks its ExecStart exists.
        for (String unit : List.of("trafficbus-forward@web1.service", "trafficbus-process.service",
                "trafficbus-intercept.service", "trafficbus-replay@team-a.service")) {
            CommandRun.Result verify = run(Duration.ofMinutes(1), "systemd-analyze", "verify", "--man=no", unit);
            assertThat(verify.exitCode()).as(unit + ":\n" + verify.output()).isZero();
            assertThat(verify.output()).as(unit).isEmpty();
        }

        // The installed command, found on a PATH without Maven, from a directory that is not a checkout.
        CommandRun.Result standalone = CommandRun.run(List.of("trafficbus", "standalone", "--pcap",
                        OPT.resolve("examples/capture.pcap").toString(), "--port", "8080", "--demo-server", "--speed", "max"),
                scratch, Map.of("PATH", MavenFreePath.create(scratch)), Duration.ofMinutes(4));
        System.out.printf("standalone from the Debian package took %.1f s%n", standalone.took().toMillis() / 1000.0);
        assertThat(standalone.exitCode()).as(standalone.output()).isZero();
        assertThat(standalone.output()).doesNotContain("building")
                .containsPattern("sessions +16 seen, 16 replayed, 0 incomplete, 0 failed");

        captureRunsAsTheServiceUserWithTheUnitsCapabilitiesOnly();

        CommandRun.Result remove = run(Duration.ofMinutes(2), "dpkg", "-r", "trafficbus");
        assertThat(remove.exitCode()).as(remove.output()).isZero();
        assertThat(leftovers()).as("left by dpkg -r").isEmpty();
        CommandRun.Result purge = run(Duration.ofMinutes(1), "dpkg", "--purge", "trafficbus");
        assertThat(purge.exitCode()).as(purge.output()).isZero();
        assertThat(exists("passwd")).as("purge removed the trafficbus user").isFalse();
        assertThat(exists("group")).as("purge removed the trafficbus group").isFalse();
        assertThat(run("dpkg-query", "-W", "trafficbus").exitCode()).as("dpkg forgot the package").isNotZero();
        assertThat(leftovers()).as("left by dpkg --purge").isEmpty();
    }

    /**
     * systemd does not run here, so what trafficbus-intercept.service grants is applied by hand (setpriv): the
     * trafficbus user with the unit's ambient capabilities opens a live capture; without them it is refused.
     */
    private void captureRunsAsTheServiceUserWithTheUnitsCapabilitiesOnly() throws Exception {
        String unit = Files.readString(UNIT_DIR.resolve("trafficbus-intercept.service"));
        String ambient = unit.lines().filter(l -> l.startsWith("AmbientCapabilities=")).findFirst().orElseThrow()
                .substring("AmbientCapabilities=".length());
        String caps = "-all," + String.join(",", ambient.toLowerCase().replace("cap_", "+").split(" "));
        assertThat(caps).isEqualTo("-all,+net_raw,+net_admin");
        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path token = Files.writeString(scratch.resolve("intercept.token"), "dist-test-token-0123456789\n");
        Map<String, String> environment = Map.of("PATH", MavenFreePath.create(scratch), "HOME", scratch.toString(),
                "TRAFFICBUS_LOG", "info");

        List<String> granted = intercept(List.of("--inh-caps=" + caps, "--ambient-caps=" + caps,
                "--bounding-set=" + caps), token);
        Path log = scratch.resolve("intercept.log");
        Process process = CommandRun.start(granted, scratch, environment, log);
        try {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (process.isAlive() && System.nanoTime() < deadline
                    && !Files.readString(log).contains("intercept capturing on lo")) {
                Thread.sleep(250);
            }
            assertThat(Files.readString(log)).as("as trafficbus with " + ambient).contains("intercept capturing on lo");
            process.destroy();
            assertThat(process.waitFor(1, TimeUnit.MINUTES)).as("intercept stops on SIGTERM").isTrue();
            assertThat(Files.readString(log)).contains("intercept: captured");
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        CommandRun.Result refused = CommandRun.run(intercept(List.of("--inh-caps=-all", "--bounding-set=-all"), token),
                scratch, environment, Duration.ofMinutes(2));
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(2);
        assertThat(refused.output()).contains("capturing needs root or CAP_NET_RAW");
    }

    private static List<String> intercept(List<String> capabilities, Path token) throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=trafficbus", "--regid=trafficbus",
                "--clear-groups", "--no-new-privs"));
        command.addAll(capabilities);
        command.addAll(List.of("trafficbus", "intercept", "--interface", "lo", "--filter", "tcp and src port 9",
                "--listen", "127.0.0.1:" + port, "--token-file", token.toString()));
        return command;
    }

    private static List<Path> leftovers() throws IOException {
        List<Path> left = new ArrayList<>();
        for (Path path : List.of(OPT, COMMAND, STATE, ETC)) {
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                left.add(path);
            }
        }
        try (Stream<Path> units = Files.list(UNIT_DIR)) {
            units.filter(u -> u.getFileName().toString().startsWith("trafficbus-")).forEach(left::add);
        }
        return left;
    }

    private static boolean exists(String database) throws Exception {
        return run("getent", database, "trafficbus").exitCode() == 0;
    }

    private static CommandRun.Result run(String... command) throws Exception {
        return run(Duration.ofSeconds(30), command);
    }

    private static CommandRun.Result run(Duration timeout, String... command) throws Exception {
        return CommandRun.run(List.of(command), Path.of("/"), Map.of(), timeout);
    }

    private static void delete(Path path) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> files = Files.walk(path)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
