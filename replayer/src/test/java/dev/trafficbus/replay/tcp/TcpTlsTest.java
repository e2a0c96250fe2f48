package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.LocalServers;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.tls.TargetTls;
import dev.trafficbus.session.Conversation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tcp engine toward an HTTPS test server (root, namespaces, real intercept, a real nginx speaking TLS with a
 * certificate of a CA made for the run): plain HTTP captures go out in TLS from the fake client endpoints, SNI from
 * their Host header, the first handshake full and the others resuming its session, answers ending by their HTTP
 * framing once decrypted. Without the answers' payload (intercept without --with-payload) nothing can be decrypted:
 * the replay is refused at start, naming the fix.
 */
@Timeout(180)
class TcpTlsTest extends TcpNetTest {
    private static final int PAYLOAD_INTERCEPT_PORT = 36531;
    private static final int HEADERS_INTERCEPT_PORT = 36532;
    private static final String ANSWERS = "tcp and (src port 443 or src port 4443)";
    /** A server on port 4443 that accepts connections and never says a word. */
    private static final String SILENT = "import socket\n"
            + "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            + "s.bind(('" + TcpTestNet.TEST_IP + "', 4443)); s.listen(64); held = []\n"
            + "while True: held.append(s.accept())\n";
    @TempDir
    static Path dir;
    private Path nginx;

    @BeforeAll
    void certificatesAndIntercepts() throws Exception {
        LocalServers.executable("openssl", "openssl");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=trafficbus tcp tls test ca");
        Files.writeString(dir.resolve("tls.ext"), "subjectAltName=DNS:tls.test\n");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=tls.test");
        openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "tls.pem", "-days", "2", "-extfile", "tls.ext");
        net.startPayloadIntercept(PAYLOAD_INTERCEPT_PORT, ANSWERS);
        net.startExtraIntercept(HEADERS_INTERCEPT_PORT, ANSWERS);
    }

    /** nginx on the test server's port 443 with TLS, a fresh access log (the base class restarts servers per test). */
    @BeforeEach
    void tlsNginx() throws Exception {
        nginx = Files.createDirectories(dir.resolve("nginx-" + System.nanoTime()));
        Files.createDirectories(nginx.resolve("logs"));
        Files.writeString(nginx.resolve("nginx.conf"), """
                daemon off; master_process off; worker_processes 1; pid logs/nginx.pid; error_log logs/error.log warn;
                events { worker_connections 1024; }
                http {
                    log_format tb '$ssl_server_name $ssl_session_reused $request_uri $status';
                    access_log logs/access.log tb;
                    client_body_temp_path body;
                    keepalive_requests 1000;
                    server {
                        listen %s:443 ssl;
                        ssl_certificate %s; ssl_certificate_key %s;
                        location / { return 200 "answered over tls\\n"; }
                    }
                }
                """.formatted(TcpTestNet.TEST_IP, dir.resolve("tls.pem"), dir.resolve("tls.key")));
        net.startServer("nginx-tls", 443, List.of("nginx", "-p", nginx.toString(), "-c",
                nginx.resolve("nginx.conf").toString()));
    }

    private void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0)
                .as(String.join(" ", cmd) + ": " + Files.readString(dir.resolve("openssl.log"))).isTrue();
    }

    /** Three keep-alive sessions of two requests to tls.test, captured in clear; production answered 3000 bytes. */
    private List<PcapFixture.Packet> capture(String tag) {
        List<PcapFixture.Packet> out = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Conversation c = new Conversation("10.6.0.2", 46000 + s, "10.6.0.1", 80, 21L + s, 97L + s,
                    1_000_000 + s * 1000L).handshake();
            for (int i = 0; i < 2; i++) {
                c.clientSends("GET /" + tag + "?s=" + s + "&i=" + i + " HTTP/1.1\r\nHost: tls.test\r\n\r\n")
                        .serverSends(new byte[3000], 1460);
            }
            for (Conversation.Packet p : c.clientFin().serverFin().clientAck().packets()) {
                out.add(new PcapFixture.Packet(p.tsMicros(), p.bytes(), p.clientToServer()));
            }
        }
        return out;
    }

    /** Publishes {@link #capture} and replays it over TLS to port 443 through the intercept on {@code interceptPort}. */
    private ReplaySummary replayOverTls(String tag, int interceptPort, int instance) throws Exception {
        return replayOverTls(tag, 443, interceptPort, instance, true);
    }

    /** The same to {@code port}; {@code resume} false: every session its own full handshake, none waiting. */
    private ReplaySummary replayOverTls(String tag, int port, int interceptPort, int instance, boolean resume)
            throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, capture(tag), 0);
        TargetTls tls = new TargetTls(null, dir.resolve("ca.pem"), false, null, null, "auto", resume);
        // Answers wait 3 s at most; a handshake max(connect, response) = 5 s.
        return run(request(topic, port, ReplaySpeed.MAX),
                ReplayTuning.defaults().withQuietPeriod(Duration.ofSeconds(2)).withResponseTimeout(Duration.ofSeconds(3)),
                ReplayOptions.defaults().withTls(tls), options(instance, interceptPort));
    }

    private List<String> accessLog() throws Exception {
        Path log = nginx.resolve("logs/access.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    @Test
    void plainCapturesReplayOverTlsWithEveryRequestArrivingAndAnswersFramed() throws Exception {
        ReplaySummary s = replayOverTls("tls", PAYLOAD_INTERCEPT_PORT, 5);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(3);
        assertThat(s.sessionsFailed()).isZero();
        assertThat(s.messagesSent()).isEqualTo(6);
        assertThat(s.messagesAnswered()).isEqualTo(6);
        assertThat(s.answersJudged("framing")).as("decrypted answers end by their HTTP framing").isEqualTo(6);
        assertThat(s.answersJudged("silence")).isZero();
        assertThat(s.problemsByReason()).as(s.summaryLine()).isEmpty();
        // One full handshake; the two sessions opened beside it waited for it and resumed its session.
        assertThat(s.tlsHandshakes().get("full")).as(s.summaryLine()).isEqualTo(1);
        assertThat(s.tlsHandshakes().get("resumed")).isEqualTo(2);
        List<String> log = accessLog();
        assertThat(log).as(String.join("\n", log)).hasSize(6)
                .allMatch(l -> l.startsWith("tls.test ") && l.endsWith(" 200"));
        assertThat(log.stream().filter(l -> l.contains(" r /tls?")).count()).as("requests on resumed sessions")
                .isEqualTo(4);
    }

    @Test
    void anInterceptRelayingHeadersOnlyIsRefusedAtStartNamingTheFix() throws Exception {
        assertThatThrownBy(() -> replayOverTls("unseen", HEADERS_INTERCEPT_PORT, 7))
                .isInstanceOf(UserInputException.class)
                .hasMessage("an https target's answers must be decrypted, but intercept " + TcpTestNet.INTERCEPT_IP
                        + ":" + HEADERS_INTERCEPT_PORT + " relays the answers' headers only: start it with --with-payload");
        assertThat(accessLog()).isEmpty();
    }

    @Test
    void aServerThatNeverAnswersTheHandshakeFailsTheSessionsWhenItsTimeIsUp() throws Exception {
        net.startServer("silent", 4443, List.of("python3", "-c", SILENT));

        // Full handshakes: each session's handshake starts with its connection, none waits for another's.
        ReplaySummary s = replayOverTls("silent", 4443, PAYLOAD_INTERCEPT_PORT, 7, false);

        assertThat(s.sessionsFailed()).as(s.summaryLine()).isEqualTo(3);
        assertThat(s.problemsByReason().get(ReplayProblem.TLS_HANDSHAKE_FAILED.label())).as(s.summaryLine())
                .isEqualTo(3);
        assertThat(s.messagesAnswered()).isZero();
        // At 5 s, between the first answer's 3 s timeout and the second's 6 s: the handshake's own time ended it.
        assertThat(s.answersJudged("timeout")).as(s.summaryLine()).isEqualTo(3);
        assertThat(s.seconds()).as("failed by the handshake timeout, not by the idle timeout").isLessThan(15);
    }
}
