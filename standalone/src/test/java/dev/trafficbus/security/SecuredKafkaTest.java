package dev.trafficbus.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.trafficbus.capture.ForwardCommand;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.replay.ReplayCommand;
import dev.trafficbus.status.StatusCommand;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Forward, replay, status and the processor against real brokers that require SCRAM-SHA-512 (SASL_PLAINTEXT) or
 * TLS, configured only through {@code --kafka-config}: the right settings work, wrong ones end with one clear line
 * and exit code 2.
 */
class SecuredKafkaTest {
    private static final String USER = "trafficbus";
    private static final String PASSWORD = "right-password";
    /** The example capture holds 16 HTTP sessions to port 8080. */
    private static final int EXAMPLE_SESSIONS = 16;

    private static Path dir;
    private static SecuredBroker scram;
    private static SecuredBroker ssl;
    private static Path scramRight;
    private static Path scramWrong;
    private static Path sslRight;
    private static Path sslUntrusted;
    private static HttpServer target;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("trafficbus-secured-");
        Path brokerKeys = TestCertificates.keyStore(dir, "broker");
        Path trust = TestCertificates.trustStoreFor(brokerKeys, "broker", dir, "truststore");
        Path impostorKeys = TestCertificates.keyStore(dir, "impostor");
        Path untrusted = TestCertificates.trustStoreFor(impostorKeys, "impostor", dir, "untrusted");
        // Two brokers start at once: the TLS one in the background while the SCRAM one gets its user.
        CompletableFuture<SecuredBroker> tls = CompletableFuture.supplyAsync(() -> SecuredBroker.ssl(brokerKeys));
        try {
            scram = SecuredBroker.scram(USER, PASSWORD);
        } finally {
            ssl = tls.join();
        }
        scramRight = SecuredBroker.clientConfig(dir, "scram-right", "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", jaas(USER, PASSWORD));
        scramWrong = SecuredBroker.clientConfig(dir, "scram-wrong", "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", jaas(USER, "wrong-password"));
        sslRight = SecuredBroker.clientConfig(dir, "ssl-right", "security.protocol", "SSL",
                "ssl.truststore.type", "PKCS12", "ssl.truststore.location", trust.toString(),
                "ssl.truststore.password", TestCertificates.PASSWORD);
        sslUntrusted = SecuredBroker.clientConfig(dir, "ssl-untrusted", "security.protocol", "SSL",
                "ssl.truststore.type", "PKCS12", "ssl.truststore.location", untrusted.toString(),
                "ssl.truststore.password", TestCertificates.PASSWORD);
        target = okServer();
    }

    @AfterAll
    static void stop() throws IOException {
        if (target != null) {
            target.stop(0);
        }
        if (scram != null) {
            scram.close();
        }
        if (ssl != null) {
            ssl.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    @Test
    void statusWorksWithTheRightSettingsAndRefusesWrongOnesInOneLine() {
        for (Object[] c : new Object[][] {{scram, scramRight, scramWrong}, {ssl, sslRight, sslUntrusted}}) {
            String address = ((SecuredBroker) c[0]).securedAddress();
            CommandOutput ok = CommandOutput.run(new StatusCommand(), "--bootstrap-servers", address,
                    "--kafka-config", c[1].toString(), "--timeout", "20");
            assertThat(ok.exitCode()).as(ok.err()).isZero();
            assertThat(ok.out()).contains("SOURCES").contains("CONSUMER GROUPS");
            assertRefused(runMain("dev.trafficbus.status.StatusMain", "--bootstrap-servers", address,
                    "--kafka-config", c[2].toString(), "--timeout", "20"), "status");
        }
    }

    @Test
    void forwardAndReplayWorkOverScram() throws Exception {
        forwardAndReplay(scram, scramRight, "scram");
    }

    @Test
    void forwardAndReplayWorkOverTls() throws Exception {
        forwardAndReplay(ssl, sslRight, "tls");
    }

    @Test
    void wrongScramPasswordIsRefusedInOneLine() {
        refusedEverywhere(scram, scramWrong, "scram-wrong", "Authentication failed");
    }

    @Test
    void untrustedBrokerCertificateIsRefusedInOneLine() {
        refusedEverywhere(ssl, sslUntrusted, "tls-untrusted", "certification path");
    }

    @Test
    void processorConnectsWithTheRightSettingsAndRefusesWrongOnes() throws Exception {
        String main = "dev.trafficbus.subscription.ProcessMain";
        boolean present;
        try {
            Class.forName(main);
            present = true;
        } catch (ClassNotFoundException e) {
            present = false;
        }
        assumeTrue(present, "the processor (" + main + ") is not on the class path yet; its secured-Kafka check is skipped");

        Process wrong = java(main, "--bootstrap-servers", scram.securedAddress(), "--kafka-config", scramWrong.toString(),
                "--metrics-port", "0", "--state-dir", dir.resolve("streams-wrong").toString());
        try {
            assertThat(wrong.waitFor(90, TimeUnit.SECONDS)).as("a refused processor exits").isTrue();
            String err = new String(wrong.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            System.err.print(err);
            assertRefusedWithReason(new CommandOutput(wrong.exitValue(), "", err), "process", "Authentication failed");
        } finally {
            wrong.destroyForcibly();
        }

        Process right = java(main, "--bootstrap-servers", scram.securedAddress(), "--kafka-config", scramRight.toString(),
                "--metrics-port", "0", "--state-dir", dir.resolve("streams-right").toString());
        try (Admin admin = Admin.create(scram.plaintextProperties())) {
            // Connected and working: its consumer group shows up on the broker while it keeps running.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean joined = false;
            while (!joined && right.isAlive() && System.nanoTime() < deadline) {
                joined = !admin.listGroups().all().get(10, TimeUnit.SECONDS).isEmpty();
                Thread.sleep(250);
            }
            String err = right.isAlive() ? "" : new String(right.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(right.isAlive()).as("processor still running; stderr: " + err).isTrue();
            assertThat(joined).as("the processor's consumer group appeared on the SCRAM broker").isTrue();
        } finally {
            right.destroy();
            if (!right.waitFor(30, TimeUnit.SECONDS)) {
                right.destroyForcibly();
            }
        }
    }

    private void forwardAndReplay(SecuredBroker broker, Path clientConfig, String source) throws Exception {
        assumeKafkaConfig(new ForwardCommand(), "forward");
        assumeKafkaConfig(new ReplayCommand(), "replay");
        CommandOutput forward = CommandOutput.run(new ForwardCommand(), "--pcap", examplePcap().toString(),
                "--port", "8080", "--source", source, "--bootstrap-servers", broker.securedAddress(),
                "--kafka-config", clientConfig.toString());
        assertThat(forward.exitCode()).as(forward.err()).isZero();

        Path report = dir.resolve(source + "-run.json");
        List<String> args = new ArrayList<>(List.of("--topic", "tb.capture." + source,
                "--target", "127.0.0.1:" + target.getAddress().getPort(), "--speed", "max", "--until-end",
                "--bootstrap-servers", broker.securedAddress(), "--kafka-config", clientConfig.toString(),
                "--report", report.toString()));
        if (hasOption(new ReplayCommand(), "--allow-production-target")) {
            args.add("--allow-production-target"); // the example was captured on this host's loopback
        }
        CommandOutput replay = CommandOutput.run(new ReplayCommand(), args.toArray(String[]::new));
        assertThat(replay.exitCode()).as(replay.err()).isZero();
        JsonNode ledger = new ObjectMapper().readTree(report.toFile());
        assertThat(ledger.path("sessions").path("replayed").asLong()).isEqualTo(EXAMPLE_SESSIONS);
        assertThat(ledger.path("sessions").path("failed").asLong()).isZero();
    }

    private void refusedEverywhere(SecuredBroker broker, Path clientConfig, String source, String reason) {
        assumeKafkaConfig(new ForwardCommand(), "forward");
        assumeKafkaConfig(new ReplayCommand(), "replay");
        CommandOutput forward = runMain("dev.trafficbus.capture.ForwardMain", "--pcap", examplePcap().toString(),
                "--port", "8080", "--source", source, "--bootstrap-servers", broker.securedAddress(),
                "--kafka-config", clientConfig.toString());
        CommandOutput replay = runMain("dev.trafficbus.replay.ReplayMain", "--topic", "tb.capture." + source,
                "--target", "127.0.0.1:" + target.getAddress().getPort(), "--speed", "max", "--until-end",
                "--bootstrap-servers", broker.securedAddress(), "--kafka-config", clientConfig.toString());
        assertRefused(forward, "forward");
        assertRefused(replay, "replay");
        assertThat(forward.err()).contains(reason);
        assertThat(replay.err()).contains(reason);
    }

    /**
     * Runs a command's main in its own JVM, as the launcher does: what a user sees includes the library logging
     * that the main configures, which an in-process run shares with every other test.
     */
    static CommandOutput runMain(String main, String... args) {
        try {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main));
            command.addAll(List.of(args));
            Path out = Files.createTempFile("trafficbus-main-out", ".txt");
            Path err = Files.createTempFile("trafficbus-main-err", ".txt");
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try {
                if (!p.waitFor(90, TimeUnit.SECONDS)) {
                    throw new AssertionError(main + " did not exit within 90 s; stderr: " + Files.readString(err));
                }
                CommandOutput result = new CommandOutput(p.exitValue(), Files.readString(out), Files.readString(err));
                System.err.print(result.err());
                return result;
            } finally {
                p.destroyForcibly();
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + main, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Exit 2, no stack trace, and a last line from the command that gives Kafka's reason. */
    private static void assertRefusedWithReason(CommandOutput run, String command, String reason) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();
        String last = run.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertThat(last).startsWith("trafficbus " + command + ": ").contains(reason);
    }

    /** The shared wording of {@code KafkaErrors}, which status uses. */
    private static void assertRefused(CommandOutput run, String command) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();
        String last = run.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertThat(last).startsWith("trafficbus " + command + ": Kafka refused the credentials: ")
                .contains("check --kafka-config");
    }

    private static void assumeKafkaConfig(Object command, String name) {
        assumeTrue(hasOption(command, "--kafka-config"), "'trafficbus " + name + "' has no --kafka-config yet "
                + "(it moves to the shared Kafka client options); its secured-Kafka checks are skipped");
    }

    private static boolean hasOption(Object command, String option) {
        return new CommandLine(command).getCommandSpec().findOption(option) != null;
    }

    private static Process java(String main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** A test server on loopback answering every request with 200 "ok". */
    static HttpServer okServer() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }

    static Path examplePcap() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("examples/capture.pcap"))) {
                return p.resolve("examples/capture.pcap");
            }
        }
        throw new IllegalStateException("examples/capture.pcap not found above " + Path.of("").toAbsolutePath());
    }
}
