package dev.trafficbus.standalone;

import dev.trafficbus.cli.CommandOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.standalone.Fixtures.SentRequest;
import dev.trafficbus.standalone.RecordingHttpServer.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end, as a user runs it: {@code standalone} starts its embedded broker, forwards a real tcpdump capture
 * (testdata/, made by make-captures.sh with curl against nginx) and replays it against a real HTTP server.
 */
class StandaloneCommandTest {
    private static final int CAPTURED_PORT = 8080;
    private static RecordingHttpServer server;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServer() throws IOException {
        server = new RecordingHttpServer();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void clearServer() {
        server.clear();
    }

    @Test
    void everyCapturedRequestArrivesExactlyOnceInSessionOrderAndTheReportAddsUp() throws IOException {
        Path report = tmp.resolve("run.json");
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap",
                Fixtures.file("http-sessions.pcap").toString(), "--port", "8080", "--target", server.address(),
                "--speed", "max", "--report", report.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();

        List<SentRequest> sent = Fixtures.sentRequests("http-sessions");
        Map<Integer, List<SentRequest>> sentSessions = Fixtures.bySession(sent);
        List<Request> received = server.requests();

        // exactly once: the same multiset of requests, nothing more
        assertThat(received).extracting(r -> r.method() + " " + r.path())
                .containsExactlyInAnyOrderElementsOf(sent.stream().map(r -> r.method() + " " + r.path()).toList());

        // per-session order: each replayed connection carries one captured session's requests, in the order sent
        Map<Integer, List<String>> byConnection = new LinkedHashMap<>();
        received.stream().sorted(Comparator.comparingLong(Request::arrivalNanos))
                .forEach(r -> byConnection.computeIfAbsent(r.remotePort(), k -> new ArrayList<>()).add(r.path()));
        List<List<String>> expectedSessions = sentSessions.values().stream()
                .map(s -> s.stream().map(SentRequest::path).toList()).toList();
        assertThat(byConnection.values()).containsExactlyInAnyOrderElementsOf(expectedSessions);

        // the 20 KB POST (14+ segments in the capture) arrives whole
        SentRequest post = sent.stream().filter(r -> r.method().equals("POST")).findFirst().orElseThrow();
        Request postReceived = received.stream().filter(r -> r.method().equals("POST")).findFirst().orElseThrow();
        assertThat(post.bodyLength()).isGreaterThan(14 * 1448);
        assertThat(postReceived.bodyLength()).isEqualTo(post.bodyLength());
        assertThat(postReceived.bodySha256()).isEqualTo(post.bodySha256());

        JsonNode json = new ObjectMapper().readTree(report.toFile());
        JsonNode forward = json.get("forward");
        // the capture was taken with the filter "tcp port 8080": every packet is published, none skipped
        assertThat(forward.get("packetsPublished").asLong()).isPositive()
                .isEqualTo(forward.get("packetsRead").asLong());
        assertThat(forward.get("publishErrors").asLong()).isZero();
        forward.get("skippedByReason").forEach(n -> assertThat(n.asLong()).isZero());
        JsonNode sessions = json.get("replay").get("sessions");
        assertThat(sessions.get("seen").asLong()).isEqualTo(sentSessions.size());
        assertThat(sessions.get("replayed").asLong()).isEqualTo(sentSessions.size());
        assertThat(sessions.get("failed").asLong()).isZero();
        assertThat(sessions.get("incomplete").asLong()).isZero();
        JsonNode messages = json.get("replay").get("messages");
        assertThat(messages.get("sent").asLong()).isEqualTo(sent.size());
        assertThat(messages.get("answered").asLong()).isEqualTo(sent.size());
        assertThat(json.get("replay").get("packets").get("consumed").asLong())
                .isEqualTo(forward.get("packetsPublished").asLong());
        assertThat(json.get("replay").get("records").get("consumed").asLong())
                .isEqualTo(forward.get("recordsPublished").asLong());
        assertThat(json.get("exitCode").asInt()).isZero();
        assertThat(json.get("wallSeconds").asDouble()).isPositive();

        assertThat(run.out()).contains("sessions  " + sentSessions.size() + " seen, " + sentSessions.size()
                + " replayed, 0 incomplete, 0 failed");
        assertThat(run.out()).contains("messages  " + sent.size() + " sent, " + sent.size() + " answered");
    }

    /** Mirrored traffic in VXLAN or GRE (testdata/make-tunnel-captures.py): the inner sessions replay completely. */
    @ParameterizedTest
    @CsvSource({"http-sessions-vxlan.pcap, vxlan", "http-sessions-gre.pcap, gre"})
    void everyInnerSessionIsReplayedAndTheDecapsulationCounted(String capture, String kind) throws IOException {
        Path report = tmp.resolve("run.json");
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", Fixtures.file(capture).toString(),
                "--port", "8080", "--target", server.address(), "--speed", "max", "--report", report.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();

        List<SentRequest> sent = Fixtures.sentRequests("http-sessions");
        Map<Integer, List<SentRequest>> sentSessions = Fixtures.bySession(sent);
        List<Request> received = server.requests();
        Map<Integer, List<String>> byConnection = new LinkedHashMap<>();
        received.stream().sorted(Comparator.comparingLong(Request::arrivalNanos))
                .forEach(r -> byConnection.computeIfAbsent(r.remotePort(), k -> new ArrayList<>()).add(r.path()));
        assertThat(byConnection.values()).containsExactlyInAnyOrderElementsOf(sentSessions.values().stream()
                .map(s -> s.stream().map(SentRequest::path).toList()).toList());
        SentRequest post = sent.stream().filter(r -> r.method().equals("POST")).findFirst().orElseThrow();
        Request postReceived = received.stream().filter(r -> r.method().equals("POST")).findFirst().orElseThrow();
        assertThat(postReceived.bodySha256()).isEqualTo(post.bodySha256());

        JsonNode json = new ObjectMapper().readTree(report.toFile());
        JsonNode forward = json.get("forward");
        long read = forward.get("packetsRead").asLong();
        // Every frame of the file is a tunnelled port-8080 packet: all are published, all decapsulated.
        assertThat(forward.get("packetsPublished").asLong()).isPositive().isEqualTo(read);
        forward.get("skippedByReason").forEach(n -> assertThat(n.asLong()).isZero());
        assertThat(forward.get("decapsulated").get(kind).asLong()).isEqualTo(read);
        JsonNode sessions = json.get("replay").get("sessions");
        assertThat(sessions.get("replayed").asLong()).isEqualTo(sentSessions.size());
        assertThat(sessions.get("incomplete").asLong()).isZero();
        assertThat(sessions.get("failed").asLong()).isZero();
        assertThat(json.get("replay").get("messages").get("answered").asLong()).isEqualTo(sent.size());
        assertThat(run.out()).contains("decapsulated: " + kind + " " + read);
    }

    @Test
    void speedOneKeepsTheCapturedGapsBetweenSessions() throws IOException {
        Path pcap = Fixtures.file("paced-sessions.pcap");
        List<Long> starts = PcapTimes.sessionStartsMicros(pcap, CAPTURED_PORT);
        List<SentRequest> sent = Fixtures.sentRequests("paced-sessions");
        assertThat(starts).hasSize(sent.size()).hasSizeGreaterThanOrEqualTo(3);
        double spanSeconds = (starts.get(starts.size() - 1) - starts.get(0)) / 1e6;
        assertThat(spanSeconds).as("the fixture spaces its sessions").isGreaterThan(1.0);
        Path report = tmp.resolve("paced.json");
        // The gaps are measured at this server: its own first exchange (a worker thread, its classes) must not
        // count as the first session's lateness, as it would not with a test server already running.
        warmServer();

        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap.toString(), "--port", "8080",
                "--target", server.address(), "--speed", "1", "--report", report.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<Request> received = server.requests().stream()
                .sorted(Comparator.comparingLong(Request::arrivalNanos)).toList();
        assertThat(received).extracting(Request::path).containsExactlyElementsOf(
                sent.stream().map(SentRequest::path).toList());
        String arrivals = received.stream().map(r -> String.format("%s at %.3f s", r.path(),
                (r.arrivalNanos() - received.get(0).arrivalNanos()) / 1e9)).collect(Collectors.joining(", "));
        for (int k = 1; k < received.size(); k++) {
            double capturedGap = (starts.get(k) - starts.get(0)) / 1e6;
            double replayedGap = (received.get(k).arrivalNanos() - received.get(0).arrivalNanos()) / 1e9;
            assertThat(replayedGap).as("session %d starts %.3f s after the first in the capture; replayed: %s", k, capturedGap, arrivals)
                    .isGreaterThanOrEqualTo(0.9 * capturedGap);
        }
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.get("replay").get("seconds").asDouble()).isGreaterThanOrEqualTo(0.9 * spanSeconds);
    }

    private static void warmServer() throws IOException {
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        try {
            for (int k = 0; k < 4; k++) {
                client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + server.address()
                        + "/warm")).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        server.clear();
    }

    @Test
    void mixedFramesAreCountedSkipsAndIpv6TcpOfThePortIsReplayed() throws IOException {
        Map<String, Long> expected = Fixtures.counts("mixed-frames.expected");
        Path report = tmp.resolve("mixed.json");

        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap",
                Fixtures.file("mixed-frames.pcap").toString(), "--port", "8080", "--target", server.address(),
                "--speed", "max", "--report", report.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();
        JsonNode forward = new ObjectMapper().readTree(report.toFile()).get("forward");
        assertThat(forward.get("packetsRead").asLong()).isEqualTo(expected.get("packets"));
        assertThat(forward.get("packetsPublished").asLong()).isEqualTo(expected.get("tcp-port"));
        assertThat(expected.get("tcp-port-ipv6")).as("the fixture has IPv6 TCP of the port").isPositive();
        JsonNode skipped = forward.get("skippedByReason");
        assertThat(skipped.get("not-tcp").asLong()).isEqualTo(expected.get("not-tcp"));
        assertThat(skipped.get("not-port").asLong()).isEqualTo(expected.get("not-port"));
        assertThat(skipped.get("not-ip").asLong()).isEqualTo(expected.get("not-ip"));
        long skippedTotal = 0;
        for (JsonNode n : skipped) {
            skippedTotal += n.asLong();
        }
        assertThat(forward.get("packetsPublished").asLong() + skippedTotal)
                .as("every packet read is published or skipped for a reason").isEqualTo(expected.get("packets"));
        assertThat(run.out()).contains("not-tcp " + expected.get("not-tcp")).contains("not-port " + expected.get("not-port"));

        // make-captures.sh sent /m01/* over IPv4 and /m02/r01 over IPv6 to port 8080; /m03, /m04 went to port 9090
        assertThat(server.requests()).extracting(Request::path)
                .containsExactlyInAnyOrder("/m01/r01", "/m01/r02", "/m02/r01");
    }

    @Test
    void aServerThatSaysNothingLeavesTheMessageUnansweredAndExitsThree() throws Exception {
        // A client line in no protocol trafficbus frames, to a server that reads and never writes (as captured).
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread reader = new Thread(() -> {
                try (Socket s = silent.accept()) {
                    s.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (IOException e) {
                    // the test ends the server by closing it
                }
            }, "tp-silent-server");
            reader.setDaemon(true);
            reader.start();
            CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap",
                    Fixtures.file("odd/no-answer.pcap").toString(), "--port", "8080",
                    "--target", "127.0.0.1:" + silent.getLocalPort(), "--speed", "max");

            assertThat(run.hasStackTrace()).as(run.err()).isFalse();
            assertThat(run.out()).contains("messages  1 sent, 0 answered").contains("0 received");
            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(3);
            assertThat(run.err()).contains("trafficbus standalone: 1 of 1 messages unanswered");
        }
    }

    @Test
    void aTruncatedCaptureReplaysWhatWasCompleteAndExitsTwo() throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.file("http-sessions.pcap"));
        Path cut = tmp.resolve("cut.pcap");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2 + 7)); // mid-record, not on a boundary

        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", cut.toString(), "--port", "8080",
                "--target", server.address(), "--speed", "max");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();
        assertThat(run.err()).contains("trafficbus standalone: " + cut + " is truncated after ");
        assertThat(run.out()).contains("sessions  ").doesNotContain("publish errors");
        assertThat(server.requests()).isNotEmpty();
    }

    @Test
    void aMissingFileIsOneLineAndExitTwo() {
        Path missing = tmp.resolve("nope.pcap");
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", missing.toString(), "--port", "8080",
                "--target", server.address());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).isEqualTo("trafficbus standalone: " + missing + ": no such file");
    }

    @Test
    void aTextFileIsNotAPcap() throws IOException {
        Path text = tmp.resolve("notes.pcap");
        Files.writeString(text, "GET / HTTP/1.1\r\nHost: example\r\n\r\n");
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", text.toString(), "--port", "8080",
                "--target", server.address());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).startsWith("trafficbus standalone: " + text + " is not a pcap file")
                .doesNotContain("\n");
    }

    @Test
    void badOptionsAreUserErrors() {
        String pcap = Fixtures.file("http-sessions.pcap").toString();
        CommandOutput speed = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap, "--port", "8080",
                "--target", server.address(), "--speed", "fast");
        assertThat(speed.exitCode()).isEqualTo(2);
        assertThat(speed.err()).contains("speed 'fast'");

        CommandOutput noTarget = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap, "--port", "8080");
        assertThat(noTarget.exitCode()).isEqualTo(2);
        assertThat(noTarget.err()).contains("--target").contains("--demo-server");

        CommandOutput badPort = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap, "--port", "70000",
                "--target", server.address());
        assertThat(badPort.exitCode()).isEqualTo(2);
        assertThat(badPort.err()).contains("70000");

        CommandOutput badTarget = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap, "--port", "8080",
                "--target", "localhost");
        assertThat(badTarget.exitCode()).isEqualTo(2);
        assertThat(badTarget.err()).contains("--target");
        CommandOutput closed = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap, "--port", "8080",
                "--target", "127.0.0.1:" + closedPort());
        assertThat(closed.exitCode()).isEqualTo(2);
        assertThat(closed.err()).startsWith("trafficbus standalone: cannot connect to --target 127.0.0.1:");
        for (CommandOutput run : List.of(speed, noTarget, badPort, badTarget, closed)) {
            assertThat(run.hasStackTrace()).as(run.err()).isFalse();
        }
    }

    @Test
    void anHttpsTargetGetsEverySessionOverTls() throws Exception {
        // A key and certificate for localhost made for this test by the JDK's keytool.
        Path ks = tmp.resolve("server.p12");
        Path cert = tmp.resolve("server.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        for (List<String> cmd : List.of(
                List.of(keytool, "-genkeypair", "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1",
                        "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2",
                        "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "test-only"),
                List.of(keytool, "-exportcert", "-rfc", "-alias", "s", "-keystore", ks.toString(),
                        "-storepass", "test-only", "-file", cert.toString()))) {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as(said).isZero();
        }
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ks)) {
            store.load(in, "test-only".toCharArray());
        }
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(store, "test-only".toCharArray());
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        try (RecordingHttpServer https = new RecordingHttpServer(tls)) {
            CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap",
                    Fixtures.file("http-sessions.pcap").toString(), "--port", "8080",
                    "--target", "https://" + https.address(), "--target-ca", cert.toString(),
                    "--tls-server-name", "localhost", "--speed", "max");
            assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
            List<SentRequest> sent = Fixtures.sentRequests("http-sessions");
            assertThat(https.requests()).extracting(r -> r.method() + " " + r.path())
                    .containsExactlyInAnyOrderElementsOf(sent.stream().map(r -> r.method() + " " + r.path()).toList());
            assertThat(run.out()).doesNotContain("tls-");
        }
    }

    private static int closedPort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort(); // closed again when this returns: nothing listens there
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theDemoServerMakesTheReadmeCommandWorkWithoutATestServer() {
        Path example = Fixtures.testdata().resolveSibling("examples").resolve("capture.pcap");
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", example.toString(), "--port", "8080",
                "--demo-server", "--speed", "max");
        assertThat(run.exitCode()).as(run.err()).isZero();
        String answered = run.out().lines().filter(l -> l.contains("demo server answered")).collect(Collectors.joining());
        String sent = run.out().lines().filter(l -> l.contains("messages")).collect(Collectors.joining());
        assertThat(answered).isNotEmpty();
        assertThat(sent).contains(" sent, ");
        long sentCount = Long.parseLong(sent.replaceAll(".*messages\\s+(\\d+) sent.*", "$1"));
        assertThat(answered).contains("answered " + sentCount + " requests");
    }
}
