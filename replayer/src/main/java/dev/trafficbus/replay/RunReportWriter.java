package dev.trafficbus.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.report.HtmlReport;
import dev.trafficbus.replay.report.RunRecordPublisher;
import dev.trafficbus.replay.report.RunTimeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The end of a run: assembles its report (settings, ledger, timeline), publishes the ledger to
 * {@code tb.runs}, and writes the report as JSON, or as a self-contained HTML page when the file ends in .html.
 */
public final class RunReportWriter {
    private RunReportWriter() {
    }

    /** Checks before the run that {@code report} can be written, so a typo fails before anything is replayed. */
    static void checkPath(Path report) {
        if (report == null) {
            return;
        }
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UserInputException("--report " + report + ": directory " + parent + " does not exist");
        }
        if (Files.isDirectory(report)) {
            throw new UserInputException("--report " + report + " is a directory; give a file name");
        }
    }

    /** The report document of a finished run (what --report writes, and what {@link HtmlReport} draws). */
    public static Map<String, Object> document(String run, ReplayRequest request, ReplayOptions options,
                                        ReplaySummary summary, Map<String, Object> ledger, RunTimeline timeline) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", run);
        doc.put("topic", request.topic());
        doc.put("target", TargetAddress.show(request.target()));
        doc.put("speed", request.speed().toString());
        doc.put("rate", options.rate() == null ? "none" : options.rate().toString());
        doc.put("loops", options.loops());
        doc.put("group", request.groupOrDefault());
        doc.put("untilEnd", request.untilEnd());
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("from", options.window().from() == null ? null : options.window().from().toString());
        w.put("to", options.window().to() == null ? null : options.window().to().toString());
        doc.put("window", w);
        doc.put("windowRule", "a session belongs to the window when its first captured packet does (from inclusive, to "
                + "exclusive) and is then replayed whole, also past the window end; a session whose SYN lies before "
                + "the window start is left out whole (starts-before-window)");
        doc.put("delivery", "at-least-once: offsets are committed only past finished sessions; after a crash a few "
                + "sessions may be replayed again (those a restart can recognise are skipped as already-replayed)");
        doc.putAll(summary.toReport());
        doc.put("ledger", ledger);
        if (timeline != null) {
            doc.put("timeline", timeline.toReport());
        }
        return doc;
    }

    /** Whether a report named {@code file} is written as the HTML page: its name ends in .html or .htm. */
    public static boolean isHtml(Path file) {
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return lower.endsWith(".html") || lower.endsWith(".htm");
    }

    /** Publishes the ledger (without the timeline) to tb.runs; the outcome goes into {@code doc}. */
    static void publishRun(KafkaAdmin admin, Properties clientConfig, String run, Map<String, Object> doc) {
        Map<String, Object> compact = new LinkedHashMap<>(doc);
        compact.remove("timeline");
        String failure = RunRecordPublisher.publish(admin, clientConfig, run, compact);
        doc.put("runRecord", failure == null ? "published to " + Topics.RUNS
                : "not published to " + Topics.RUNS + ": " + failure);
        if (failure != null) {
            System.err.println("trafficbus replay: could not publish the run ledger to " + Topics.RUNS
                    + ": " + failure);
        }
    }

    /**
     * Writes {@code doc} to {@code file} as JSON; when the name ends in .html (or .htm) as an HTML page, with
     * the JSON beside it under the same name ending in .json.
     */
    static void write(Path file, Map<String, Object> doc) {
        String name = file.getFileName().toString();
        try {
            if (isHtml(file)) {
                Files.writeString(file, HtmlReport.render(doc), StandardCharsets.UTF_8);
                Path json = file.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".json");
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
            } else {
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
            }
        } catch (IOException e) {
            throw new UserInputException("cannot write --report " + file + ": " + e.getMessage(), e);
        }
    }
}
