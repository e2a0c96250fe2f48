package dev.trafficbus.standalone;

import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.standalone.Fixtures.SentRequest;
import dev.trafficbus.standalone.RecordingHttpServer.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * standalone on testdata/http-credentials.pcap (real curl keep-alive sessions with credentials, and a head written
 * in four segments): the forwarder masks the credentials before the embedded bus sees them, and the replay still
 * delivers every request to a real HTTP server (JDK), which sees the masks where the secrets were.
 */
class StandaloneRedactionTest {
    private static RecordingHttpServer server;

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
    void theReplayOfTheMaskedCaptureDeliversEveryRequestWithMasksOfTheSameLength() throws IOException {
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap",
                Fixtures.file("http-credentials.pcap").toString(), "--port", "8080", "--target", server.address(),
                "--speed", "max");
        assertThat(run.exitCode()).as(run.err()).isZero();

        List<SentRequest> sent = Fixtures.sentRequests("http-credentials");
        List<Request> received = server.requests();
        assertThat(received).extracting(r -> r.method() + " " + r.path() + (r.query() == null ? "" : "?" + r.query()))
                .containsExactlyInAnyOrderElementsOf(sent.stream().map(r -> r.method() + " " + r.path()).toList());
        for (Request r : received) {
            if (r.path().matches("/cred/s[12]/.*")) {
                String session = r.path().substring("/cred/s".length(), "/cred/s".length() + 1);
                assertThat(r.header("Authorization")).isEqualTo(stars("Bearer tbBearerSecret" + session));
                assertThat(r.header("Cookie")).isEqualTo(stars("session=tbCookieSecret" + session));
                assertThat(r.header("X-Api-Key")).as("not masked by default").isEqualTo("tbApiKeySecret" + session);
            }
        }
        Request split = received.stream().filter(r -> r.path().equals("/cred/split/r01")).findFirst().orElseThrow();
        assertThat(split.header("Authorization")).isEqualTo(stars("Bearer tbSplitBearerSecret"));
        assertThat(split.header("Cookie")).isEqualTo(stars("session=tbSplitCookieSecret"));
        assertThat(run.out()).contains("messages  " + sent.size() + " sent, " + sent.size() + " answered")
                .contains("; redacted: header:Authorization 11, header:Cookie 12, header:Set-Cookie 12");
    }

    @Test
    void withoutTheDefaultsTheCredentialsAreReplayedAsCaptured() {
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap",
                Fixtures.file("http-credentials.pcap").toString(), "--port", "8080", "--target", server.address(),
                "--speed", "max", "--no-default-redaction", "--redact-header", "X-Api-Key");
        assertThat(run.exitCode()).as(run.err()).isZero();
        Request split = server.requests().stream().filter(r -> r.path().equals("/cred/split/r01")).findFirst()
                .orElseThrow();
        assertThat(split.header("Authorization")).isEqualTo("Bearer tbSplitBearerSecret");
        assertThat(split.header("X-Api-Key")).isEqualTo(stars("tbSplitApiKeySecret"));
        assertThat(run.out()).contains("; redacted: header:X-Api-Key 11");
    }

    private static String stars(String s) {
        return "*".repeat(s.length());
    }
}
