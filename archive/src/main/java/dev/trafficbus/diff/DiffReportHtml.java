package dev.trafficbus.diff;

import java.util.Map;
import java.util.stream.Collectors;

/** The diff as one self-contained HTML page (inline style, no scripts, nothing fetched): totals, endpoints, examples. */
public final class DiffReportHtml {
    private static final String STYLE = """
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
            table{border-collapse:collapse;margin:.5em 0}
            th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
            th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .bad{background:#fde2e2}.ok{background:#e3f6e3}.warn{background:#fff4d6}
            code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{white-space:pre-wrap;margin:.2em 0}
            .muted{color:#666}
            """;

    private DiffReportHtml() {
    }

    public static String render(DiffRun run, DiffTally t) {
        StringBuilder sb = new StringBuilder(8192);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>trafficbus diff ")
                .append(esc(run.run())).append("</title><style>").append(STYLE).append("</style></head><body>\n");
        sb.append("<h1>trafficbus diff: run <code>").append(esc(run.run())).append("</code></h1>\n");
        sb.append("<p class=\"muted\">topic <code>").append(esc(run.topic())).append("</code>; ignored headers: ")
                .append(esc(String.join(", ", run.rules().ignoredHeaders())));
        if (!run.rules().ignoredJsonPaths().isEmpty()) {
            sb.append("; ignored JSON paths: ").append(esc(run.rules().ignoredJsonPaths().stream()
                    .map(JsonPath::toString).collect(Collectors.joining(", "))));
        }
        sb.append("</p>\n<h2>Totals</h2>\n<table><tr><th>pairs</th><th>equal</th><th>different</th>"
                + "<th>missing production</th><th>missing replay</th></tr>\n<tr>");
        row(sb, t.pairs(), t.equal(), t.different(), t.missingProduction(), t.missingReplayTotal(), t.missingReplay());
        sb.append("</tr></table>\n<p class=\"muted\">records read ").append(t.recordsRead()).append(", undecodable ")
                .append(t.undecodableTotal());
        if (!t.undecodable().isEmpty()) {
            sb.append(" (").append(esc(DiffSummaryText.joinCounts(t.undecodable()))).append(')');
        }
        sb.append(", of other runs ").append(t.otherRun()).append(", duplicates ").append(t.duplicates()).append("</p>\n");

        sb.append("<h2>By endpoint</h2>\n<table><tr><th>endpoint</th><th>pairs</th><th>equal</th><th>different</th>"
                + "<th>missing production</th><th>missing replay</th><th>differing fields (pairs)</th></tr>\n");
        for (DiffTally.Endpoint e : t.endpoints()) {
            sb.append("<tr><td><code>").append(esc(e.name())).append("</code></td>");
            row(sb, e.pairs(), e.equal(), e.different(), e.missingProduction(), e.missingReplayTotal(), e.missingReplay());
            sb.append("<td>").append(esc(e.differencesByField().entrySet().stream()
                    .map(f -> f.getKey() + " (" + f.getValue() + ")").collect(Collectors.joining(", ")))).append("</td></tr>\n");
        }
        sb.append("</table>\n");

        for (DiffTally.Endpoint e : t.endpoints()) {
            if (e.examples().isEmpty()) {
                continue;
            }
            sb.append("<h2>Examples: <code>").append(esc(e.name())).append("</code></h2>\n");
            for (DiffTally.Example x : e.examples()) {
                sb.append("<p>session <code>").append(esc(x.session())).append("</code> request ").append(x.index())
                        .append(" <code>").append(esc(x.url() == null ? "" : x.url())).append("</code>, status ")
                        .append(x.productionStatus()).append(" / ").append(x.replayedStatus()).append("</p>\n")
                        .append("<table><tr><th>field</th><th>production</th><th>replayed</th></tr>\n");
                for (Difference d : x.differences()) {
                    sb.append("<tr><td><code>").append(esc(d.field())).append("</code></td><td><pre>")
                            .append(esc(d.production())).append("</pre></td><td><pre>").append(esc(d.replayed()))
                            .append("</pre></td></tr>\n");
                }
                sb.append("</table>\n");
            }
        }
        sb.append("</body></html>\n");
        return sb.toString();
    }

    private static void row(StringBuilder sb, long pairs, long equal, long different, long missingProduction,
                            long missingReplay, Map<String, Long> byReason) {
        sb.append("<td class=\"n\">").append(pairs).append("</td>")
                .append("<td class=\"n").append(equal > 0 ? " ok" : "").append("\">").append(equal).append("</td>")
                .append("<td class=\"n").append(different > 0 ? " bad" : "").append("\">").append(different).append("</td>")
                .append("<td class=\"n").append(missingProduction > 0 ? " warn" : "").append("\">").append(missingProduction)
                .append("</td><td class=\"n").append(missingReplay > 0 ? " bad" : "").append("\">").append(missingReplay);
        if (missingReplay > 0) {
            sb.append(" (").append(esc(DiffSummaryText.joinCounts(byReason))).append(')');
        }
        sb.append("</td>");
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
