package dev.trafficbus.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the Debian package puts where, and how its systemd units run the services (read from the .deb). */
class DebianPackageContentTest {
    static Path root;

    @BeforeAll
    static void extract() throws Exception {
        root = Files.createTempDirectory("tb-deb-");
        CommandRun.Result x = CommandRun.run(List.of("dpkg-deb", "-x", DebianPackage.file().toString(), root.toString()),
                root, Map.of(), Duration.ofMinutes(2));
        assertThat(x.exitCode()).as(x.output()).isZero();
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void installsTheArchiveUnderOptWithTheCommandOnThePath() throws IOException {
        assertThat(root.resolve("opt/trafficbus/bin/trafficbus")).isExecutable();
        assertThat(root.resolve("opt/trafficbus/lib/standalone.classpath")).isRegularFile();
        assertThat(root.resolve("opt/trafficbus/examples/capture.pcap")).isRegularFile();
        assertThat(Files.readSymbolicLink(root.resolve("usr/bin/trafficbus")))
                .isEqualTo(Path.of("/opt/trafficbus/bin/trafficbus"));
        assertThat(root.resolve("etc/trafficbus")).isDirectory();
    }

    @Test
    void everyServiceRunsAsTheTrafficbusUserHardened() throws IOException {
        for (String unit : DebianPackage.UNITS) {
            String text = unit(unit);
            assertThat(text).as(unit).contains("\nUser=trafficbus\n", "\nNoNewPrivileges=yes\n",
                    "\nProtectSystem=strict\n", "\nRestart=on-failure\n", "\nStateDirectory=trafficbus\n",
                    "\nEnvironment=JAVA_OPTS=-Xmx");
        }
    }

    @Test
    void eachServiceReadsItsConfigFromEtc() throws IOException {
        assertThat(unit("trafficbus-forward@.service")).contains(
                "\nExecStart=/opt/trafficbus/bin/trafficbus forward --config /etc/trafficbus/forward-%i.yaml\n");
        assertThat(unit("trafficbus-process.service")).contains(
                "\nExecStart=/opt/trafficbus/bin/trafficbus process --config /etc/trafficbus/process.yaml\n");
        assertThat(unit("trafficbus-intercept.service")).contains(
                "\nExecStart=/opt/trafficbus/bin/trafficbus intercept --config /etc/trafficbus/intercept.yaml\n");
        assertThat(unit("trafficbus-replay@.service")).contains(
                "\nExecStart=/opt/trafficbus/bin/trafficbus replay --config /etc/trafficbus/replay-%i.yaml\n");
    }

    @Test
    void captureGetsOnlyTheNetworkCapabilities() throws IOException {
        for (String unit : List.of("trafficbus-forward@.service", "trafficbus-intercept.service")) {
            assertThat(unit(unit)).as(unit).contains("\nAmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN\n",
                    "\nCapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n");
        }
        assertThat(unit("trafficbus-process.service")).contains("\nAmbientCapabilities=\n",
                "\nCapabilityBoundingSet=\n");
        assertThat(unit("trafficbus-replay@.service")).contains("\nAmbientCapabilities=CAP_NET_RAW\n",
                "\nCapabilityBoundingSet=CAP_NET_RAW\n");
    }

    private static String unit(String name) throws IOException {
        return Files.readString(root.resolve("lib/systemd/system").resolve(name));
    }
}
