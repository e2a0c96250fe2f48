package dev.trafficbus.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.session.Conversation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TLS toward the target: a real capture (testdata/http-sessions.pcap) replayed over TLS into nginx-light with
 * certificates made by openssl for this run: CA trust, SNI chosen from each session's Host header, a wrong CA,
 * --insecure, and client certificates (nginx ssl_verify_client on). Every request is counted in nginx's log.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TlsReplayTest {
    private static TestKafka kafka;
    private static CaptureFixture http;
    @TempDir
    static Path dir;
    private static Path pki;
    private static Process nginx;
    /** localhost certificate; SNI servers a.test and b.test (and a default one); client certificates required. */
    private static int plainTls, sni, mtls;
    /** localhost certificate, HTTP/2 by ALPN (and HTTP/1.1 to clients that offer only that). */
    private static int h2;

    @BeforeAll
    static void start() throws Exception {
        LocalServers.executable("openssl", "openssl");
        pki = Files.createDirectories(dir.resolve("pki"));
        ca("ca");
        ca("other-ca");
        cert("localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1");
        cert("a.test", "ca", "subjectAltName=DNS:a.test");
        cert("b.test", "ca", "subjectAltName=DNS:b.test");
        cert("default.test", "ca", "subjectAltName=DNS:default.test");
        cert("client", "ca", "extendedKeyUsage=clientAuth");
        plainTls = LocalServers.freePort();
        sni = LocalServers.freePort();
        mtls = LocalServers.freePort();
        h2 = LocalServers.freePort();
        String p = pki.toString();
        Path html = Files.createDirectories(dir.resolve("nginx/html/static"));
        for (String f : List.of("a", "b", "small")) {
            Files.writeString(html.resolve(f + ".txt"), "replayed " + f + "\n");
        }
        nginx = LocalServers.nginx(dir.resolve("nginx"), """
                    log_format tb '$server_port $ssl_server_name $host $request_method $uri $status $ssl_client_verify $ssl_session_reused';
                    keepalive_requests 100000;
                    access_log logs/access.log tb;
                    server {
                        listen 127.0.0.1:%1$d ssl;
                        ssl_certificate %4$s/localhost.pem; ssl_certificate_key %4$s/localhost.key;
                        location / { return 200 "ok\\n"; }
                    }
                    server {
                        listen 127.0.0.1:%2$d ssl default_server;
                        server_name default.test;
                        ssl_certificate %4$s/default.test.pem; ssl_certificate_key %4$s/default.test.key;
                        location / { return 200 "default\\n"; }
                    }
                    server {
                        listen 127.0.0.1:%2$d ssl;
                        server_name a.test;
                        ssl_certificate %4$s/a.test.pem; ssl_certificate_key %4$s/a.test.key;
                        location / { return 200 "a\\n"; }
                    }
                    server {
                        listen 127.0.0.1:%2$d ssl;
                        server_name b.test;
                        ssl_certificate %4$s/b.test.pem; ssl_certificate_key %4$s/b.test.key;
                        location / { return 200 "b\\n"; }
                    }
                    server {
                        listen 127.0.0.1:%3$d ssl;
                        ssl_certificate %4$s/localhost.pem; ssl_certificate_key %4$s/localhost.key;
                        ssl_client_certificate %4$s/ca.pem; ssl_verify_client on;
                        location / { return 200 "ok\\n"; }
                    }
                    log_format h2 '$server_protocol $request_method $uri $status';
                    server {
                        listen 127.0.0.1:%5$d ssl http2;
                        access_log logs/h2.log h2;
                        ssl_certificate %4$s/localhost.pem; ssl_certificate_key %4$s/localhost.key;
                        root html;
                        location = /echo { return 201 "stored\\n"; }
                        location /api/ { default_type application/json; return 200 '{"replayed":true}'; }
                    }
                """.formatted(plainTls, sni, mtls, p, h2), plainTls);
        LocalServers.waitForPort(sni);
        LocalServers.waitForPort(mtls);
        LocalServers.waitForPort(h2);
        kafka = new TestKafka();
        http = CaptureFixture.load("http-sessions");
    }

    @AfterAll
    static void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy();
            if (!nginx.waitFor(5, TimeUnit.SECONDS)) {
                nginx.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(pki.toFile()).redirectErrorStream(true)
                .redirectOutput(pki.resolve("openssl.log").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0)
                .as(String.join(" ", cmd) + ": " + Files.readString(pki.resolve("openssl.log"))).isTrue();
    }

    /** A test CA: NAME.pem and NAME.key, made for this run. */
    private static void ca(String name) throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=trafficbus test " + name);
    }

    /** NAME.pem signed by CA, with the PKCS#8 key NAME.key. */
    private static void cert(String name, String ca, String extension) throws Exception {
        Files.writeString(pki.resolve(name + ".ext"), extension + "\n");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
    }

    /** nginx's access log lines of the server on {@code port}. */
    private static List<String> log(int port) throws Exception {
        Path f = dir.resolve("nginx/logs/access.log");
        return Files.readAllLines(f).stream().filter(l -> l.startsWith(port + " ")).toList();
    }

    /** The lines of {@code port} logged since {@code before} lines. */
    private static List<String> logSince(int port, int before) throws Exception {
        List<String> all = log(port);
        return all.subList(before, all.size());
    }

    private static CommandOutput replay(String topic, Path report, String... extra) {
        List<String> args = new ArrayList<>(List.of("--topic", topic, "--bootstrap-servers", kafka.bootstrapServers(),
                "--speed", "max", "--until-end", "--group", topic, "--report", report.toString()));
        args.addAll(List.of(extra));
        return CommandOutput.run(new ReplayCommand(), args.toArray(String[]::new));
    }

    private static String publish(String name) throws Exception {
        String topic = "tb.capture." + name;
        kafka.createTopic(topic, 2);
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        return topic;
    }

    @Test
    void aRealCaptureReplaysOverTlsWithEveryRequestArriving() throws Exception {
        String topic = publish("tls-plain");
        Path report = dir.resolve("tls-plain.json");
        int before = log(plainTls).size();
        CommandOutput o = replay(topic, report, "--target", "https://127.0.0.1:" + plainTls,
                "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost");
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        List<String> log = logSince(plainTls, before);
        assertThat(log).as(String.join("\n", log)).hasSize(http.expected.size());
        // No SNI for a name without a dot (RFC 6066 wants a FQDN), but the certificate is checked for localhost.
        assertThat(log).allMatch(l -> l.startsWith(plainTls + " - 10.77.0.1 ") && l.contains(" 200 "));
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.path("problems").size()).as(json.path("problems").toString()).isZero();
        assertThat(json.path("ledger").path("replayed").asLong()).isEqualTo(16);
        // The first session's handshake is full; the 15 others resume the session nginx issued to it.
        assertThat(json.path("tlsHandshakes").path("full").asLong()).as(json.toString()).isEqualTo(1);
        assertThat(json.path("tlsHandshakes").path("resumed").asLong()).isEqualTo(15);
        assertThat(log.stream().filter(l -> l.endsWith(" .")).count()).as("requests on the one full handshake")
                .isBetween(1L, 5L);

        // --tls-full-handshakes: every session pays the full handshake, as nginx sees it too; one connection at a
        // time, so each starts after the one before it got its session.
        String again = publish("tls-full");
        before = log(plainTls).size();
        o = replay(again, dir.resolve("tls-full.json"), "--target", "https://127.0.0.1:" + plainTls,
                "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost",
                "--tls-full-handshakes", "--max-connections", "1");
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("TLS handshakes full=16 resumed=0 unknown=0");
        assertThat(logSince(plainTls, before)).hasSize(http.expected.size()).allMatch(l -> l.endsWith(" ."));

        // The same with the JDK's TLS, which keeps sessions of its own: nginx sees no session reused either.
        String jdk = publish("tls-full-jdk");
        before = log(plainTls).size();
        o = replay(jdk, dir.resolve("tls-full-jdk.json"), "--target", "https://127.0.0.1:" + plainTls,
                "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost",
                "--tls-full-handshakes", "--max-connections", "1", "--tls-provider", "jdk");
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        assertThat(logSince(plainTls, before)).hasSize(http.expected.size()).allMatch(l -> l.endsWith(" ."));
    }

    @Test
    void sniComesFromEachSessionsHostHeader() throws Exception {
        String topic = "tb.capture.tls-sni";
        kafka.createTopic(topic, 2);
        List<Conversation.Packet> packets = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            String host = s % 2 == 0 ? "a.test" : "b.test:8443";
            Conversation c = new Conversation("10.5.0.2", 44000 + s, "10.5.0.1", 443, s * 7919L, s * 104729L,
                    1_000_000 + s * 1000L).handshake();
            for (int r = 0; r < 3; r++) {
                c.clientSends("GET /r" + r + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").serverSends(new byte[100], 1460);
            }
            packets.addAll(c.clientFin().serverFin().clientAck().packets());
        }
        kafka.publish(topic, packets, List.of());
        CommandOutput o = replay(topic, dir.resolve("tls-sni.json"), "--target", "https://127.0.0.1:" + sni,
                "--target-ca", pki.resolve("ca.pem").toString());
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        List<String> log = log(sni);
        assertThat(log).hasSize(18);
        // $ssl_server_name is what the client offered; a wrong certificate would have failed verification.
        assertThat(log.stream().filter(l -> l.startsWith(sni + " a.test a.test GET")).count()).isEqualTo(9);
        assertThat(log.stream().filter(l -> l.startsWith(sni + " b.test b.test GET")).count()).isEqualTo(9);
        assertThat(o.out()).doesNotContain("problems:");
        // Sessions are kept per server name: one full handshake for each.
        assertThat(o.out()).contains("TLS handshakes full=2 resumed=4 unknown=0");
    }

    @Test
    void aCertificateFromAnotherCaIsCountedAndTheSessionsFail() throws Exception {
        for (String provider : List.of("openssl", "jdk")) {
            String topic = publish("tls-wrong-ca-" + provider);
            Path report = dir.resolve("tls-wrong-ca-" + provider + ".json");
            int before = log(plainTls).size();
            CommandOutput o = replay(topic, report, "--target", "https://127.0.0.1:" + plainTls, "--tls-provider",
                    provider, "--target-ca", pki.resolve("other-ca.pem").toString(), "--tls-server-name", "localhost");
            assertThat(o.exitCode()).as("README: 1 when a session failed").isEqualTo(1);
            assertThat(logSince(plainTls, before)).isEmpty();
            JsonNode json = new ObjectMapper().readTree(report.toFile());
            assertThat(json.path("problems").path("tls-untrusted-certificate").asLong()).as(provider + o.out())
                    .isEqualTo(16);
            assertThat(json.path("sessions").path("failed").asLong()).as(json.path("sessions").toString()).isEqualTo(16);
            assertThat(o.out()).contains("tls-untrusted-certificate=16");
        }
    }

    @Test
    void aNameTheCertificateDoesNotCarryIsAHostnameMismatch() throws Exception {
        for (String provider : List.of("openssl", "jdk")) {
            String topic = publish("tls-mismatch-" + provider);
            // The capture's Host is 10.77.0.1:8080, which the localhost certificate does not name.
            CommandOutput o = replay(topic, dir.resolve("tls-mismatch-" + provider + ".json"), "--target",
                    "https://127.0.0.1:" + plainTls, "--tls-provider", provider,
                    "--target-ca", pki.resolve("ca.pem").toString());
            assertThat(o.exitCode()).isEqualTo(1);
            assertThat(o.out()).as(provider).contains("tls-hostname-mismatch=16");
        }
    }

    @Test
    void aPlainHttpServerIsATlsProtocolProblem() throws Exception {
        String topic = publish("tls-to-plain");
        Path prefix = dir.resolve("nginx-plain");
        int port = LocalServers.freePort();
        Process plain = LocalServers.nginx(prefix, """
                    access_log off;
                    server { listen 127.0.0.1:%d; location / { return 200 "ok\\n"; } }
                """.formatted(port), port);
        try {
            CommandOutput o = replay(topic, dir.resolve("tls-to-plain.json"), "--target", "https://127.0.0.1:" + port,
                    "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost");
            assertThat(o.exitCode()).isEqualTo(1);
            assertThat(o.out()).contains("tls-protocol=16");
        } finally {
            plain.destroy();
            plain.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void insecureReplaysAndIsReportedAsAWarning() throws Exception {
        String topic = publish("tls-insecure");
        Path report = dir.resolve("tls-insecure.html");
        int before = log(plainTls).size();
        CommandOutput o = replay(topic, report, "--target", "127.0.0.1:" + plainTls, "--target-tls", "--insecure");
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        assertThat(logSince(plainTls, before)).hasSize(http.expected.size());
        assertThat(o.err()).contains("WARNING: --insecure");
        assertThat(o.out()).contains("tls-unverified=16");
        JsonNode json = new ObjectMapper().readTree(dir.resolve("tls-insecure.json").toFile());
        assertThat(json.path("problems").path("tls-unverified").asLong()).isEqualTo(16);
        assertThat(Files.readString(report)).contains("tls-unverified");
    }

    @Test
    void clientCertificatesForATargetThatRequiresThem() throws Exception {
        String topic = publish("tls-mtls");
        CommandOutput refused = replay(topic, dir.resolve("tls-mtls-refused.json"), "--target",
                "https://localhost:" + mtls, "--target-ca", pki.resolve("ca.pem").toString(),
                "--tls-server-name", "localhost");
        // nginx finishes the handshake and refuses each request: 400, and the connection closed after it.
        List<String> withoutCert = log(mtls);
        assertThat(withoutCert).isNotEmpty().allMatch(l -> l.contains(" 400 NONE"));
        JsonNode json = new ObjectMapper().readTree(dir.resolve("tls-mtls-refused.json").toFile());
        assertThat(json.path("timeline").path("statusCodes").path("400").asLong()).as(json.toString()).isEqualTo(withoutCert.size());
        assertThat(refused.exitCode()).isEqualTo(1);

        String again = publish("tls-mtls-cert");
        CommandOutput o = replay(again, dir.resolve("tls-mtls.json"), "--target", "https://localhost:" + mtls,
                "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost",
                "--tls-cert", pki.resolve("client.pem").toString(), "--tls-key", pki.resolve("client.key").toString());
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        List<String> withCert = logSince(mtls, withoutCert.size());
        assertThat(withCert).hasSize(http.expected.size()).allMatch(l -> l.contains(" 200 SUCCESS "));
    }

    private static String publishH2(String name, CaptureFixture.PathCounts e) throws Exception {
        String topic = "tb.capture." + name;
        kafka.createTopic(topic, 2);
        CaptureFixture.packetsOf("h2c-nginx", e.port()).publish(kafka.bootstrapServers(), topic, "h2", 1);
        return topic;
    }

    @Test
    void anH2cCaptureReplaysAsH2OverTlsWithEveryRequestArrivingOnce() throws Exception {
        CaptureFixture.PathCounts e = CaptureFixture.pathCounts("h2c-nginx");
        String topic = publishH2("tls-h2", e);
        Path log = dir.resolve("nginx/logs/h2.log");
        int before = Files.exists(log) ? Files.readAllLines(log).size() : 0;
        Path report = dir.resolve("tls-h2.json");
        CommandOutput o = replay(topic, report, "--target", "https://127.0.0.1:" + h2,
                "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost");
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        List<String> lines = Files.readAllLines(log);
        lines = lines.subList(before, lines.size());
        // nginx chose h2 by ALPN: every request arrived once, as HTTP/2.
        assertThat(lines).as(String.join("\n", lines)).hasSize((int) e.requests()).allMatch(l -> l.startsWith("HTTP/2.0 "));
        java.util.Map<String, Long> paths = new java.util.TreeMap<>();
        lines.forEach(l -> paths.merge(l.split(" ")[2], 1L, Long::sum));
        assertThat(paths).isEqualTo(e.paths());
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.path("problems").size()).as(json.path("problems").toString()).isZero();
        assertThat(json.path("sessions").path("failed").asLong()).isZero();
    }

    @Test
    void anHttp1SessionOffersOnlyHttp11ToAnH2Server() throws Exception {
        String topic = publish("tls-h1-to-h2");
        Path log = dir.resolve("nginx/logs/h2.log");
        int before = Files.exists(log) ? Files.readAllLines(log).size() : 0;
        CommandOutput o = replay(topic, dir.resolve("tls-h1-to-h2.json"), "--target", "https://127.0.0.1:" + h2,
                "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost");
        assertThat(o.exitCode()).as(o.out() + o.err()).isZero();
        List<String> lines = Files.readAllLines(log);
        assertThat(lines.subList(before, lines.size())).hasSize(http.expected.size()).allMatch(l -> l.startsWith("HTTP/1.1 "));
    }

    @Test
    void anH2SessionToATargetWithoutH2IsCountedAlpnRefused() throws Exception {
        for (String provider : List.of("openssl", "jdk")) {
            CaptureFixture.PathCounts e = CaptureFixture.pathCounts("h2c-nginx");
            String topic = publishH2("tls-h2-refused-" + provider, e);
            Path report = dir.resolve("tls-h2-refused-" + provider + ".json");
            int before = log(plainTls).size();
            CommandOutput o = replay(topic, report, "--target", "https://127.0.0.1:" + plainTls, "--tls-provider",
                    provider, "--target-ca", pki.resolve("ca.pem").toString(), "--tls-server-name", "localhost");
            assertThat(o.exitCode()).as("README: 1 when a session failed").isEqualTo(1);
            long sessions = Http2ReplayTest.sessions("h2c-nginx", e);
            JsonNode json = new ObjectMapper().readTree(report.toFile());
            assertThat(json.path("problems").path("tls-alpn-refused").asLong()).as(provider + " " + o.out())
                    .isEqualTo(sessions);
            assertThat(json.path("sessions").path("failed").asLong()).isEqualTo(sessions);
            // HTTP/2 frames never reached the HTTP/1 server as a request.
            assertThat(logSince(plainTls, before)).isEmpty();
        }
    }
}
