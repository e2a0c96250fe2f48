package dev.trafficbus.standalone;

import dev.trafficbus.capture.ForwardMain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's first command on a machine without libpcap: every libpcap library file is hidden behind an empty file
 * in a private mount namespace ({@code unshare -m}, root only), as on a fresh machine. Reading the capture needs no
 * libpcap; live capture and intercept name the package to install.
 */
class WithoutLibpcapTest {
    private static final List<String> LIBRARY_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib");

    @TempDir
    Path temp;

    @Test
    @Timeout(300)
    void readmeFirstCommandReplaysEverySessionAndLiveCaptureAndInterceptNameThePackage() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root: hides libpcap with a bind mount in a private mount namespace (unshare -m)");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "needs unshare (util-linux)");
        Set<Path> libraries = libpcapFiles();
        Assumptions.assumeFalse(libraries.isEmpty(), "no libpcap here to hide; nothing to show");
        Path empty = Files.createFile(temp.resolve("empty.so"));
        Path pcap = Fixtures.testdata().getParent().resolve("examples/capture.pcap");

        Result standalone = withoutLibpcap(libraries, empty, StandaloneMain.class.getName(), "--pcap", pcap.toString(),
                "--port", "8080", "--demo-server", "--speed", "max");
        assertThat(standalone.exitCode()).as(standalone.output()).isZero();
        assertThat(standalone.output()).contains("sessions  16 seen, 16 replayed, 0 incomplete, 0 failed, 0 not replayed")
                .doesNotContain("Exception");

        Result live = withoutLibpcap(libraries, empty, ForwardMain.class.getName(), "--interface", "lo", "--port", "8080",
                "--bootstrap-servers", "127.0.0.1:1");
        assertThat(live.exitCode()).as(live.output()).isEqualTo(2);
        assertThat(live.output().strip()).isEqualTo("trafficbus forward: live capture (--interface) needs libpcap,"
                + " which is not installed (or cannot be loaded): sudo apt-get install libpcap0.8 (the Debian/Ubuntu"
                + " package libpcap0.8; dnf install libpcap elsewhere)");

        Result intercept = withoutLibpcap(libraries, empty, "dev.trafficbus.intercept.InterceptMain", "--interface", "lo",
                "--no-auth", "--listen", "127.0.0.1:0");
        assertThat(intercept.exitCode()).as(intercept.output()).isEqualTo(2);
        assertThat(intercept.output().strip()).isEqualTo("trafficbus intercept: capturing the responses needs libpcap,"
                + " which is not installed (or cannot be loaded): sudo apt-get install libpcap0.8 (the Debian/Ubuntu"
                + " package libpcap0.8; dnf install libpcap elsewhere)");
    }

    record Result(int exitCode, String output) {
    }

    /** Runs {@code main} in a child JVM (this test's classpath) that sees an empty file where each library was. */
    private Result withoutLibpcap(Set<Path> libraries, Path empty, String main, String... args) throws Exception {
        StringBuilder script = new StringBuilder("set -e; ");
        for (Path lib : libraries) {
            script.append("mount --bind '").append(empty).append("' '").append(lib).append("'; ");
        }
        script.append("exec \"$@\"");
        List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                script.toString(), "sh", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        Path output = Files.createTempFile(temp, "out", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(main + " did not finish within 240 s: " + Files.readString(output));
        }
        return new Result(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }

    /** The real files behind every libpcap.so* in the usual library folders. */
    private static Set<Path> libpcapFiles() throws IOException {
        Set<Path> out = new LinkedHashSet<>();
        for (String dir : LIBRARY_DIRS) {
            Path d = Path.of(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(d, "libpcap.so*")) {
                for (Path f : files) {
                    out.add(f.toRealPath());
                }
            }
        }
        return out;
    }
}
