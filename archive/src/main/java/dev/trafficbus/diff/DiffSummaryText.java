package dev.trafficbus.diff;

import java.util.Map;
import java.util.stream.Collectors;

/** The text a user reads after a diff: totals, then per endpoint the counts, the differing fields and examples. */
public final class DiffSummaryText {
    private DiffSummaryText() {
    }

    public static String render(DiffRun run, DiffTally t) {
        StringBuilder sb = new StringBuilder();
        sb.append("diff run ").append(run.run()).append(" (").append(run.topic()).append("): ")
                .append(totals(t.pairs(), t.equal(), t.different(), t.missingProduction(), t.missingReplayTotal(),
                        t.missingReplay()))
                .append('\n');
        sb.append("ignored headers: ").append(String.join(", ", run.rules().ignoredHeaders()));
        if (!run.rules().ignoredJsonPaths().isEmpty()) {
            sb.append("; ignored JSON paths: ").append(run.rules().ignoredJsonPaths().stream()
                    .map(JsonPath::toString).collect(Collectors.joining(", ")));
        }
        sb.append('\n');
        for (DiffTally.Endpoint e : t.endpoints()) {
            sb.append(e.name()).append(": ").append(totals(e.pairs(), e.equal(), e.different(), e.missingProduction(),
                    e.missingReplayTotal(), e.missingReplay())).append('\n');
            for (Map.Entry<String, Long> f : e.differencesByField().entrySet()) {
                sb.append("  ").append(f.getKey()).append(": ").append(f.getValue())
                        .append(f.getValue() == 1 ? " pair" : " pairs").append('\n');
            }
            for (DiffTally.Example x : e.examples()) {
                sb.append("  example: session ").append(x.session()).append(" request ").append(x.index())
                        .append(' ').append(x.url() == null ? "" : x.url()).append('\n');
                for (Difference d : x.differences()) {
                    sb.append("    ").append(d.describe()).append('\n');
                }
            }
        }
        sb.append("records: ").append(t.recordsRead()).append(" read, ").append(t.undecodableTotal())
                .append(" undecodable");
        if (!t.undecodable().isEmpty()) {
            sb.append(" (").append(joinCounts(t.undecodable())).append(')');
        }
        sb.append(", ").append(t.otherRun()).append(" of other runs, ").append(t.duplicates()).append(" duplicates");
        return sb.toString();
    }

    private static String totals(long pairs, long equal, long different, long missingProduction, long missingReplay,
                                 Map<String, Long> byReason) {
        StringBuilder sb = new StringBuilder().append(pairs).append(pairs == 1 ? " pair, " : " pairs, ")
                .append(equal).append(" equal, ").append(different).append(" different, ")
                .append(missingProduction).append(" missing production, ").append(missingReplay).append(" missing replay");
        if (missingReplay > 0) {
            sb.append(" (").append(joinCounts(byReason)).append(')');
        }
        return sb.toString();
    }

    static String joinCounts(Map<String, Long> counts) {
        return counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }
}
