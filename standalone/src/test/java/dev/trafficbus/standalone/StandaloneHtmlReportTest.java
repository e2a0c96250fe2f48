package dev.trafficbus.standalone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.report.ReportInBrowser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A newcomer's first run with {@code --report run.html}: the README's command on examples/capture.pcap writes the
 * same HTML page as {@code replay --report}, with standalone's broker start and pcap import on it, and the JSON
 * beside it; the page opens in a real browser.
 */
class StandaloneHtmlReportTest {
    @TempDir
    Path tmp;

    @Test
    void theReadmeRunWritesTheReplayPageWithTheForwardStep() throws Exception {
        Path page = tmp.resolve("run.html");
        runTheReadmeCommand(page);

        String html = Files.readString(page, StandardCharsets.UTF_8);
        assertThat(html).startsWith("<!DOCTYPE html>").doesNotContain("<script").doesNotContain("http://")
                .doesNotContain("https://");
        JsonNode json = new ObjectMapper().readTree(tmp.resolve("run.json").toFile());
        JsonNode sessions = json.path("replay").path("sessions");
        JsonNode messages = json.path("replay").path("messages");
        JsonNode forward = json.path("forward");
        // examples/README.md: 16 sessions with 32 requests; the demo server answers 200 to each
        assertThat(sessions.path("seen").asLong()).isEqualTo(16);
        assertThat(messages.path("answered").asLong()).isEqualTo(32);

        // the replay's own page: its ledger, charts and status mix, with the figures of this run
        assertThat(html).contains("<h1>Replay run standalone-capture</h1>").contains("<h2>Loss ledger</h2>")
                .contains("<h2>Answer times over the run</h2>");
        // a point per step (a line joins them when the run spans more than one step)
        assertThat(html.substring(html.indexOf("<h2>Answer times over the run"), html.indexOf("<h2>Throughput")))
                .contains("<circle");
        assertThat(html).contains(row("sessions captured (read)", 16)).contains(row("replayed", 16))
                .contains(row("answered (every message)", 16)).contains(row("200", 32));
        // standalone's steps before the replay, through the page's hook, not a second page
        assertThat(html).contains("<h2>Forward: pcap to tb.capture.capture</h2>")
                .contains(row("packets read", forward.path("packetsRead").asLong()))
                .contains(row("packets published", forward.path("packetsPublished").asLong()))
                .contains(row("records published", forward.path("recordsPublished").asLong()))
                .contains("<th>broker start (s)</th>");
        assertThat(forward.path("packetsPublished").asLong()).isPositive();
        assertThat(html.indexOf("Forward: pcap")).isLessThan(html.indexOf("Loss ledger"));

        ReportInBrowser.assertOpensWithoutErrors(page, Path.of("target", "standalone-report.png"));
    }

    @Test
    void anyOtherNameStaysJson() throws Exception {
        Path report = tmp.resolve("run.txt");
        runTheReadmeCommand(report);

        assertThat(new ObjectMapper().readTree(report.toFile()).path("replay").path("sessions").path("replayed")
                .asLong()).isEqualTo(16);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("run.txt");
        }
    }

    /** The README's first command, with --report. */
    private static void runTheReadmeCommand(Path report) {
        Path pcap = Fixtures.testdata().resolveSibling("examples").resolve("capture.pcap");
        CommandOutput run = CommandOutput.run(new StandaloneCommand(), "--pcap", pcap.toString(), "--port", "8080",
                "--demo-server", "--speed", "max", "--report", report.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
    }

    /** One row of the page's tables: a heading cell and its number. */
    private static String row(String heading, long value) {
        return "<th>" + heading + "</th><td class=\"n\">" + value + "</td>";
    }
}
