package dev.trafficbus.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.metrics.MetricsEndpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code trafficbus intercept} as a user runs it: bad input gets one line, a real run stops cleanly on SIGTERM. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class InterceptCommandTest {
    @TempDir
    Path dir;

    private static CommandOutput run(String... args) {
        CommandOutput out = CommandOutput.run(new InterceptCommand(), args);
        assertThat(out.hasStackTrace()).as("stack trace in: " + out.err()).isFalse();
        return out;
    }

    @Test
    void badInputGetsOneClearLineAndExitCode2() throws Exception {
        assertThat(run("--interface", "lo").err())
                .contains("trafficbus intercept: --token-file FILE is required (or --no-auth");
        CommandOutput missing = run("--interface", "lo", "--token-file", dir.resolve("nope").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("--token-file " + dir.resolve("nope") + ": no such file");
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThat(run("--interface", "lo", "--token-file", empty.toString()).err()).contains("the file is empty");
        assertThat(run("--interface", "lo", "--no-auth", "--listen", "0.0.0.0:99999").err())
                .contains("--listen 0.0.0.0:99999: port 99999 is not a TCP port");
        assertThat(run("--interface", "lo", "--no-auth", "--hold-time", "soon").err())
                .contains("Invalid value for option '--hold-time': 'soon' is not a duration; use e.g. 10s, 500ms, 2m or 1h");
        assertThat(run("--interface", "lo", "--no-auth", "--tls-cert", "x.pem").err())
                .contains("--tls-cert needs --tls-key");
        CommandOutput noIf = run("--interface", "nosuch9", "--no-auth");
        assertThat(noIf.exitCode()).isEqualTo(2);
        assertThat(noIf.err()).contains("--interface nosuch9: no such interface (available: ");
    }

    @Test
    void aFilterLibpcapRejectsIsNamed() {
        Assumptions.assumeTrue(NetNamespaces.root(), "needs root to open a capture");
        CommandOutput out = run("--interface", "lo", "--no-auth", "--filter", "tcp and bogus words");
        assertThat(out.exitCode()).isEqualTo(2);
        assertThat(out.err()).contains("--filter 'tcp and bogus words': libpcap cannot use it");
    }

    @Test
    void countersAreExportedUnderTheInterceptNamingScheme() {
        InterceptCounters c = new InterceptCounters();
        c.countCaptured();
        c.countDropped(DropReason.QUEUE_FULL);
        c.countRefused(RefusalReason.BAD_TOKEN);
        try (MetricsEndpoint metrics = new MetricsEndpoint("intercept")) {
            c.export(metrics);
            String text = metrics.scrape();
            assertThat(text).contains("trafficbus_intercept_packets_captured_total 1.0")
                    .contains("trafficbus_intercept_packets_dropped_total{reason=\"queue-full\"} 1.0")
                    .contains("trafficbus_intercept_packets_dropped_total{reason=\"no-route\"} 0.0")
                    .contains("trafficbus_intercept_auth_refused_total{reason=\"bad-token\"} 1.0")
                    .contains("trafficbus_intercept_clients_connected 0.0");
        }
        assertThat(c.summaryLine()).isEqualTo("captured 1, relayed 0, dropped 1 (queue-full 1), clients 0 connected"
                + " (0 accepted), refused 1 (bad-token 1)");
    }

    @Test
    void aRealProcessInTheAssistNamespaceRefusesABadTokenAndPrintsItsCountersOnSigterm() throws Exception {
        Assumptions.assumeTrue(NetNamespaces.root(), "needs root to create network namespaces and capture");
        Path token = Files.writeString(dir.resolve("token"), "process-token\n");
        try (AssistNetwork net = AssistNetwork.create()) {
            String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", net.assist,
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
                    "dev.trafficbus.intercept.InterceptMain", "--interface", AssistNetwork.ASSIST_IF,
                    "--filter", "tcp and src port 8080", "--listen", AssistNetwork.ASSIST_IP + ":36524",
                    "--token-file", token.toString(), "--status-interval", "1s"));
            Path outFile = dir.resolve("out.txt");
            Path errFile = dir.resolve("err.txt");
            // Files, not pipes: destroy() closes a child's pipes, and the counters come after SIGTERM.
            Process p = new ProcessBuilder(cmd).redirectOutput(outFile.toFile()).redirectError(errFile.toFile()).start();
            try {
                long deadline = System.currentTimeMillis() + 30_000;
                while (!Files.readString(errFile).contains("listening on") && p.isAlive()
                        && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(Files.readString(errFile)).as("intercept started").contains("listening on");

                try (FrameClient c = NetNamespaces.in(net.client, () -> {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress(AssistNetwork.ASSIST_IP, 36524), 3000);
                    return new FrameClient(s);
                })) {
                    c.hello("guess", "intruder");
                    ByteBuffer answer = c.next(3000);
                    assertThat(FrameReader.type(answer)).isEqualTo(InterceptFrames.REFUSED);
                    assertThat(FrameReader.readRefused(answer)).isEqualTo("bad token");
                }
                Thread.sleep(1200); // one status line

                p.destroy(); // SIGTERM
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("stopped on SIGTERM").isTrue();
                String out = Files.readString(outFile);
                String err = Files.readString(errFile);
                assertThat(out).contains("intercept: captured ").contains("refused 1 (bad-token 1)");
                assertThat(err).contains("status: captured").contains("refused").doesNotContain("\tat ");
            } finally {
                if (p.isAlive()) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }
}
