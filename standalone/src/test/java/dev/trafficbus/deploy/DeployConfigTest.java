package dev.trafficbus.deploy;

import dev.trafficbus.capture.ForwardCommand;
import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.replay.ReplayCommand;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The example configuration in deploy/ (what docker-compose.yml runs) is accepted by the commands as they are:
 * every key is an option, every value parses. Checked with {@code --print-config}, which reads and validates the
 * file without connecting anywhere.
 */
class DeployConfigTest {
    /** What docker-compose.yml puts in every component's environment. */
    private static final Map<String, String> COMPOSE_ENV = Map.of("TRAFFICBUS_BOOTSTRAP_SERVERS", "kafka:9092");

    @Test
    void forwardAcceptsItsConfig() {
        String out = printConfig(new ForwardCommand(), "forward.yaml");
        assertThat(line(out, "--pcap")).contains("/trafficbus/examples/capture.pcap").contains("file ");
        assertThat(line(out, "--port")).contains("8080");
        assertThat(line(out, "--bootstrap-servers")).contains("kafka:9092").contains("env TRAFFICBUS_BOOTSTRAP_SERVERS");
    }

    @Test
    void replayAcceptsItsConfig() {
        String out = printConfig(new ReplayCommand(), "replay.yaml");
        assertThat(line(out, "--topic")).contains("tb.sub.example");
        assertThat(line(out, "--target")).contains("test-server:80");
    }

    @Test
    void processAcceptsItsConfig() throws Exception {
        mainAcceptsConfig("dev.trafficbus.subscription.ProcessMain", "process.yaml");
    }

    @Test
    void interceptAcceptsItsConfig() throws Exception {
        mainAcceptsConfig("dev.trafficbus.intercept.InterceptMain", "intercept.yaml");
    }

    @Test
    void clientPropertiesExamplesNameRealKafkaSettings() throws IOException {
        var known = org.apache.kafka.clients.producer.ProducerConfig.configNames();
        try (var files = Files.list(deployDir())) {
            List<Path> examples = files.filter(f -> f.getFileName().toString().endsWith(".properties")).toList();
            assertThat(examples).isNotEmpty();
            for (Path f : examples) {
                java.util.Properties p = new java.util.Properties();
                try (var in = Files.newBufferedReader(f)) {
                    p.load(in);
                }
                assertThat(known).as(f.toString()).containsAll(p.stringPropertyNames());
            }
        }
    }

    private static String printConfig(Object command, String file) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            code = CommandRunner.runWithEnvironment(COMPOSE_ENV, command, "--config",
                    deployDir().resolve(file).toString(), "--print-config");
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        return text;
    }

    /** Components this module does not depend on run in their own JVM, when they are on the class path. */
    private static void mainAcceptsConfig(String main, String file) throws Exception {
        boolean present;
        try {
            Class.forName(main);
            present = true;
        } catch (ClassNotFoundException e) {
            present = false;
        }
        assumeTrue(present, main + " is not on the class path yet; deploy/" + file + " is not checked");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main,
                "--config", deployDir().resolve(file).toString(), "--print-config"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(COMPOSE_ENV);
        Process p = pb.start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(main + " --print-config exits").isTrue();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(output).isZero();
            assertThat(output).contains("effective configuration");
        } finally {
            p.destroyForcibly();
        }
    }

    static Path deployDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docker-compose.yml")) && Files.isDirectory(p.resolve("deploy"))) {
                return p.resolve("deploy");
            }
        }
        throw new IllegalStateException("deploy/ not found above " + Path.of("").toAbsolutePath());
    }

    private static String line(String text, String start) {
        return text.lines().filter(l -> l.startsWith(start + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + start + " in:\n" + text));
    }
}
