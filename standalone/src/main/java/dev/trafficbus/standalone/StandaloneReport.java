package dev.trafficbus.standalone;

import dev.trafficbus.replay.TargetAddress;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.RunReportWriter;
import dev.trafficbus.replay.report.HtmlReport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * Renders a {@link StandaloneResult} as the human summary, as the JSON report (stable keys), and as the HTML page
 * of {@code replay --report} with standalone's own steps (broker start, pcap import) added to it.
 */
public final class StandaloneReport {
    private StandaloneReport() {
    }

    /** The summary printed at the end of a run, a few aligned lines. */
    public static List<String> lines(StandaloneResult result) {
        StandaloneRequest req = result.request();
        ForwardSummary f = result.forward();
        ReplaySummary r = result.replay();
        return List.of(
                String.format(Locale.ROOT, "standalone: %s (port %s) replayed against %s at speed %s",
                        req.pcap(), joinPorts(req), TargetAddress.show(req.target()), req.speed()),
                String.format(Locale.ROOT, "  packets   %d read, %d published in %d records to %s%s; skipped: %s%s%s",
                        f.packetsRead(), f.packetsPublished(), f.recordsPublished(), f.topic(),
                        f.publishErrors() > 0 ? ", " + f.publishErrors() + " publish errors" : "",
                        reasons(f.skippedByReason()),
                        f.decapsulated().isEmpty() ? "" : "; decapsulated: " + reasons(f.decapsulated()),
                        f.redaction().line()),
                String.format(Locale.ROOT, "  sessions  %d seen, %d replayed, %d incomplete, %d failed, %d not replayed",
                        r.sessionsSeen(), r.sessionsReplayed(), r.sessionsIncomplete(), r.sessionsFailed(),
                        r.sessionsNotReplayed()),
                String.format(Locale.ROOT, "  messages  %d sent, %d answered", r.messagesSent(), r.messagesAnswered()),
                String.format(Locale.ROOT, "  bytes     %d sent, %d received", r.bytesSent(), r.bytesReceived()),
                String.format(Locale.ROOT, "  problems  %s", reasons(r.problemsByReason())),
                String.format(Locale.ROOT, "  time      %.1f s (broker start %.1f s, forward %.1f s, replay %.1f s)",
                        result.wallSeconds(), result.brokerStartSeconds(), f.seconds(), r.seconds()));
    }

    /** The report as an ordered map: {"pcap", "ports", "target", "speed", "forward", "replay", "wallSeconds", ...}. */
    public static Map<String, Object> toMap(StandaloneResult result, int exitCode) {
        StandaloneRequest req = result.request();
        ForwardSummary f = result.forward();
        Map<String, Object> forward = new LinkedHashMap<>();
        forward.put("topic", f.topic());
        forward.put("packetsRead", f.packetsRead());
        forward.put("packetsPublished", f.packetsPublished());
        forward.put("recordsPublished", f.recordsPublished());
        forward.put("publishErrors", f.publishErrors());
        forward.put("skippedByReason", new LinkedHashMap<>(f.skippedByReason()));
        forward.put("decapsulated", new LinkedHashMap<>(f.decapsulated()));
        forward.put("bytesPublished", f.bytesPublished());
        forward.put("seconds", round(f.seconds()));
        forward.put("fileTruncated", f.fileTruncated());
        forward.put("fieldsRedacted", new LinkedHashMap<>(f.redaction().fieldsByRule()));
        forward.put("redactionUnchecked", f.redaction().unchecked());

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("pcap", req.pcap().toString());
        report.put("ports", req.servicePorts().stream().sorted().toList());
        report.put("target", TargetAddress.show(req.target()));
        report.put("speed", req.speed().toString());
        report.put("forward", forward);
        report.put("replay", result.replay().toReport());
        report.put("brokerStartSeconds", round(result.brokerStartSeconds()));
        report.put("wallSeconds", round(result.wallSeconds()));
        report.put("exitCode", exitCode);
        return report;
    }

    /**
     * Writes the JSON report; for a .html name the HTML page, with the JSON beside it under the same name ending
     * in .json. An unwritable path is the user's to fix.
     */
    public static void write(Path file, StandaloneResult result, int exitCode) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path json = file;
            if (RunReportWriter.isHtml(file)) {
                Files.writeString(file, HtmlReport.render(result.replayReport(), stepsBeforeReplay(result, exitCode)),
                        StandardCharsets.UTF_8);
                String name = file.getFileName().toString();
                json = file.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".json");
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(json.toFile(), toMap(result, exitCode));
        } catch (IOException e) {
            throw new UserInputException("cannot write the report to " + file + ": " + e.getMessage(), e);
        }
    }

    /** What standalone did before the replay, for the page: the run as a whole, then the pcap import. */
    static Map<String, Map<String, Object>> stepsBeforeReplay(StandaloneResult result, int exitCode) {
        StandaloneRequest req = result.request();
        ForwardSummary f = result.forward();
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("pcap", req.pcap().toString());
        run.put("ports", joinPorts(req));
        run.put("broker start (s)", round(result.brokerStartSeconds()));
        run.put("whole run (s)", round(result.wallSeconds()));
        run.put("exit code", exitCode);
        Map<String, Object> forward = new LinkedHashMap<>();
        forward.put("packets read", f.packetsRead());
        forward.put("packets published", f.packetsPublished());
        forward.put("records published", f.recordsPublished());
        forward.put("bytes published", f.bytesPublished());
        forward.put("publish errors", f.publishErrors());
        forward.put("packets skipped", reasons(f.skippedByReason()));
        forward.put("file truncated", f.fileTruncated());
        forward.put("seconds", round(f.seconds()));
        Map<String, Map<String, Object>> steps = new LinkedHashMap<>();
        steps.put("Standalone run", run);
        steps.put("Forward: pcap to " + f.topic(), forward);
        return steps;
    }

    private static String reasons(Map<String, Long> counts) {
        StringJoiner j = new StringJoiner(", ");
        new TreeMap<>(counts).forEach((k, v) -> {
            if (v > 0) {
                j.add(k + " " + v);
            }
        });
        return j.length() == 0 ? "none" : j.toString();
    }

    private static String joinPorts(StandaloneRequest req) {
        StringJoiner j = new StringJoiner(",");
        req.servicePorts().stream().sorted().forEach(p -> j.add(String.valueOf(p)));
        return j.toString();
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }
}
