package dev.trafficbus.diff;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code trafficbus diff}: compares the replayed responses of a run with the production ones. */
@Command(name = "diff",
        header = "Compare the replayed responses of a run with the production responses.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Reads the responses topic of a replay run (replay --capture-responses) and compares every replayed response"
                + " with the production response captured for the same request: status, headers (names case-insensitive)"
                + " and body (structurally when both are JSON, else byte for byte). Differences are grouped by endpoint.",
            "Ignored by default: the hop-by-hop and framing headers " + "connection, keep-alive, proxy-connection,"
                + " transfer-encoding, te, trailer, upgrade, content-length (see --compare-all-headers).",
            "Exit codes: 0 every replayed response equals production, 1 some differ or got no replayed response,"
                + " 2 bad input (missing topic, bad option, unreachable broker, no response of the run in the topic)."
        })
public final class DiffCommand implements Callable<Integer> {
    /** Exit code when some pairs differ or have no replayed response. */
    public static final int EXIT_DIFFERENCES = 1;

    @Spec
    private CommandSpec spec;

    @Option(names = "--run", required = true, paramLabel = "RUN", description = "Run id that replay printed.")
    private String run;

    @Option(names = "--responses-topic", paramLabel = "TOPIC",
            description = "Topic holding the run's responses (default: tb.responses.<RUN>).")
    private String responsesTopic;

    @Option(names = "--ignore-header", paramLabel = "NAME", split = ",",
            description = "Header not to compare (case-insensitive); repeatable, e.g. --ignore-header Date.")
    private List<String> ignoreHeaders = new ArrayList<>();

    @Option(names = "--ignore-json-path", paramLabel = "PATH",
            description = "JSON body path not to compare; repeatable: $.requestId, $.items[*].id, $..traceId.")
    private List<String> ignoreJsonPaths = new ArrayList<>();

    @Option(names = "--compare-all-headers",
            description = "Also compare the hop-by-hop and framing headers ignored by default.")
    private boolean compareAllHeaders;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Also write the report to FILE: a self-contained HTML page when it ends in .html, else JSON.")
    private Path report;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "3",
            description = "Differing pairs shown per endpoint (default: ${DEFAULT-VALUE}).")
    private int examples;

    @Mixin
    private KafkaClientOptions kafka;

    @Override
    public Integer call() {
        String topic = responsesTopic != null ? responsesTopic : responsesTopicOf(run);
        if (examples < 0) {
            throw new UserInputException("--examples " + examples + " is negative");
        }
        ComparisonRules rules;
        try {
            rules = ComparisonRules.of(ignoreHeaders, ignoreJsonPaths, !compareAllHeaders);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage(), e);
        }
        if (report != null) {
            checkWritable(report);
        }
        DiffTally tally = new ResponsesReader(kafka.toProperties(), topic, run, new PairComparison(rules),
                ProgressDisplay.onTerminal()).read(new DiffTally(examples));
        if (tally.pairs() == 0) {
            // Nothing compared is not "all equal": a mistyped --run would otherwise pass a CI gate.
            throw new UserInputException(nothingCompared(run, topic, tally));
        }
        DiffRun diffRun = new DiffRun(run, topic, rules);
        PrintWriter out = spec.commandLine().getOut();
        out.println(DiffSummaryText.render(diffRun, tally));
        if (report != null) {
            String page = isHtml(report) ? DiffReportHtml.render(diffRun, tally) : DiffReportJson.render(diffRun, tally);
            try {
                Files.writeString(report, page, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UserInputException("--report " + report + ": cannot write: " + e.getMessage(), e);
            }
            out.println("report written to " + report);
        }
        out.flush();
        return tally.different() > 0 || tally.missingReplayTotal() > 0 ? EXIT_DIFFERENCES : 0;
    }

    /** The one-line error when no record of the topic is a response of the run. */
    static String nothingCompared(String run, String topic, DiffTally tally) {
        return "no responses of run '" + run + "' in " + topic + " (" + tally.otherRun() + " records of other runs, "
                + tally.undecodableTotal() + " undecodable); check --run and --responses-topic";
    }

    /** The default responses topic of a run: {@code tb.responses.<run>}. */
    static String responsesTopicOf(String run) {
        try {
            return Topics.RESPONSES_PREFIX + Topics.checkId("--run", run);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage(), e);
        }
    }

    private static boolean isHtml(Path file) {
        String name = String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT);
        return name.endsWith(".html") || name.endsWith(".htm");
    }

    private static void checkWritable(Path file) {
        if (Files.isDirectory(file)) {
            throw new UserInputException("--report " + file + " is a directory; name the file to write");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new UserInputException("--report " + file + ": directory " + parent + " does not exist");
        }
    }
}
