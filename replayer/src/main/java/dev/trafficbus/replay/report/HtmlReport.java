package dev.trafficbus.replay.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a run report as one self-contained HTML page: inline CSS and SVG charts, no script and nothing
 * fetched, so it opens anywhere, also offline. It puts production's answer times (from the capture) beside
 * the test server's, overall and per endpoint; how answers were judged; throughput against the capture's
 * own rate; errors and problems; the status code mix; and the loss ledger from captured sessions to
 * answered ones with every difference's reason. Axes and legends are in words.
 */
public final class HtmlReport {
    private static final int W = 760;
    private static final int H = 220;
    private static final int LEFT = 56;
    private static final int RIGHT = 16;
    private static final int TOP = 14;
    private static final int BOTTOM = 34;

    private static final String TEST = "#c33";
    private static final String PROD = "#36c";

    private HtmlReport() {
    }

    /** One line of a chart: its points (x in seconds, y in the chart's unit; null: no point), colour, legend. */
    private record Series(List<double[]> points, String color, String legend, boolean dashed) {
    }

    /** The page for report document {@code doc} (as written to the JSON report). */
    public static String render(Map<String, Object> doc) {
        return render(doc, Map.of());
    }

    /**
     * The page for {@code doc} with the figures of the steps before the replay (e.g. standalone's broker start
     * and pcap import) as one table per step, headed by its key, after the settings.
     */
    @SuppressWarnings("unchecked")
    public static String render(Map<String, Object> doc, Map<String, Map<String, Object>> stepsBefore) {
        StringBuilder b = new StringBuilder(48 * 1024);
        String run = String.valueOf(doc.get("run"));
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>trafficbus replay ").append(esc(run)).append("</title><style>")
                .append("body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:820px}")
                .append("h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}")
                .append("table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;border-bottom:1px solid #eee}")
                .append("td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}")
                .append(".legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:14px;height:3px;margin:0 5px 3px 0}")
                .append("svg{background:#fafafa;border:1px solid #eee}.muted{color:#777}.warn{color:#a40}")
                .append("</style></head><body>\n");
        b.append("<h1>Replay run ").append(esc(run)).append("</h1>\n");
        Map<String, Object> settings = new LinkedHashMap<>();
        for (String k : List.of("topic", "target", "engine", "group", "speed", "rate", "loops", "window", "seconds")) {
            if (doc.get(k) instanceof Map<?, ?> w) {
                Object from = w.get("from");
                Object to = w.get("to");
                settings.put(k, from == null && to == null ? "whole topic"
                        : (from == null ? "start" : from) + " to " + (to == null ? "end" : to));
            } else if (doc.containsKey(k)) {
                settings.put(k, doc.get(k));
            }
        }
        table(b, settings);
        for (String k : List.of("windowRule", "delivery")) {
            if (doc.get(k) != null) {
                b.append("<p class=\"muted\">").append(esc(String.valueOf(doc.get(k)))).append("</p>\n");
            }
        }

        stepsBefore.forEach((step, figures) -> {
            b.append("<h2>").append(esc(step)).append("</h2>\n");
            table(b, figures);
        });

        Map<String, Object> timeline = (Map<String, Object>) doc.getOrDefault("timeline", Map.of());
        answers(b, (Map<String, Object>) doc.get("answers"));

        b.append("<h2>Answer times: production and the test server</h2>\n");
        b.append("<p class=\"muted\">Production: from the client's last byte of a request to the server's last byte of "
                + "its answer, as captured. Test server: from writing the same request to its complete answer.</p>\n");
        latencyTable(b, (Map<String, Object>) timeline.getOrDefault("latencyMs", Map.of()),
                (List<Map<String, Object>>) timeline.getOrDefault("endpoints", List.of()));

        List<Map<String, Object>> rows = (List<Map<String, Object>>) timeline.getOrDefault("steps", List.of());
        double step = num(timeline.get("stepSeconds"));
        String stepWords = "each point covers " + fmt(step) + " s of the run";
        b.append("<h2>Answer times over the run</h2>\n");
        chart(b, List.of(
                series(rows, "replayedMs", "p50", 1, TEST, "test server, median", false),
                series(rows, "replayedMs", "p90", 1, "#e90", "test server, 90th percentile", false),
                series(rows, "replayedMs", "p99", 1, "#a2a", "test server, 99th percentile", false),
                series(rows, "productionMs", "p50", 1, PROD, "production, median (same requests)", true)),
                "milliseconds", "seconds since the run started; " + stepWords, 0);

        b.append("<h2>Throughput</h2>\n");
        throughput(b, doc, timeline, rows, step, stepWords);

        b.append("<h2>Errors and problems</h2>\n");
        chart(b, List.of(series(rows, "errors", null, step > 0 ? 1 / step : 1, TEST, "problems per second", false)),
                "problems per second", "seconds since the run started; " + stepWords, 0);
        table(b, (Map<String, Object>) timeline.getOrDefault("errors", Map.of()));

        b.append("<h2>Status code mix</h2>\n");
        statusBars(b, (Map<String, Object>) timeline.getOrDefault("statusCodes", Map.of()));

        Map<String, Object> ledger = (Map<String, Object>) doc.getOrDefault("ledger", Map.of());
        b.append("<h2>Loss ledger</h2>\n");
        ledger(b, ledger, (Map<String, Object>) doc.getOrDefault("problems", Map.of()));
        b.append("<p class=\"muted\">Made by trafficbus replay.</p>\n</body></html>\n");
        return b.toString();
    }

    private static void answers(StringBuilder b, Map<String, Object> judged) {
        b.append("<h2>How the end of each answer was known</h2>\n");
        if (judged == null || judged.isEmpty()) {
            b.append("<p class=\"muted\">Not counted.</p>\n");
            return;
        }
        Map<String, String> words = Map.of(
                "framing", "by the protocol's framing (HTTP/1.x, Redis): known",
                "size", "by the captured size: production's answer had as many bytes",
                "silence", "by silence after data: a guess, each cost the quiet period",
                "close", "by the test server closing the connection",
                "timeout", "not complete within the response timeout");
        Map<String, Object> t = new LinkedHashMap<>();
        long guessed = 0;
        for (Map.Entry<String, Object> e : judged.entrySet()) {
            t.put(words.getOrDefault(e.getKey(), e.getKey()), e.getValue());
            if (!e.getKey().equals("framing")) {
                guessed += num(e.getValue());
            }
        }
        table(b, t);
        if (num(judged.get("silence")) + num(judged.get("timeout")) > 0) {
            b.append("<p class=\"warn\">Some answers were judged by silence or timed out: their pacing was guessed. "
                    + "The protocol was not one the replay reads, or (tcp engine) intercept relayed headers only: "
                    + "start intercept with --with-payload.</p>\n");
        } else if (guessed == 0) {
            b.append("<p class=\"muted\">Every answer was recognised by its framing.</p>\n");
        }
    }

    @SuppressWarnings("unchecked")
    private static void latencyTable(StringBuilder b, Map<String, Object> overall, List<Map<String, Object>> endpoints) {
        if (overall.isEmpty() && endpoints.isEmpty()) {
            b.append("<p class=\"muted\">No answers.</p>\n");
            return;
        }
        b.append("<table><tr><th>endpoint</th><th class=\"n\">answered</th>")
                .append("<th class=\"n\">production median / 90th / 99th, ms</th>")
                .append("<th class=\"n\">test server median / 90th / 99th, ms</th>")
                .append("<th class=\"n\">median, test ÷ production</th><th>status classes</th><th>problems</th></tr>");
        Map<String, Object> p = (Map<String, Object>) overall.get("productionMs");
        Map<String, Object> r = (Map<String, Object>) overall.get("replayedMs");
        latencyRow(b, "all", r == null ? 0 : num(r.get("count")), p, r, Map.of(), Map.of(), true);
        int shown = 0;
        for (Map<String, Object> e : endpoints) {
            if (++shown > 50) {
                b.append("<tr><td class=\"muted\" colspan=\"7\">").append(endpoints.size() - 50)
                        .append(" more endpoints in the JSON report</td></tr>");
                break;
            }
            latencyRow(b, String.valueOf(e.get("endpoint")), num(e.get("answered")),
                    (Map<String, Object>) e.get("productionMs"), (Map<String, Object>) e.get("replayedMs"),
                    (Map<String, Object>) e.getOrDefault("statusClasses", Map.of()),
                    (Map<String, Object>) e.getOrDefault("problems", Map.of()), false);
        }
        b.append("</table>\n");
    }

    private static void latencyRow(StringBuilder b, String name, double answered, Map<String, Object> p,
                                   Map<String, Object> r, Map<String, Object> classes, Map<String, Object> problems,
                                   boolean bold) {
        String th = bold ? "th" : "td";
        b.append("<tr><").append(th).append('>').append(esc(name)).append("</").append(th).append('>')
                .append("<td class=\"n\">").append(fmt(answered)).append("</td>")
                .append("<td class=\"n\">").append(pcts(p)).append("</td>")
                .append("<td class=\"n\">").append(pcts(r)).append("</td><td class=\"n\">");
        if (p != null && r != null && num(p.get("p50")) > 0) {
            b.append(String.format(Locale.ROOT, "%.2f×", num(r.get("p50")) / num(p.get("p50"))));
        } else {
            b.append("–");
        }
        b.append("</td><td>").append(esc(inline(classes))).append("</td><td>").append(esc(inline(problems)))
                .append("</td></tr>");
    }

    private static String pcts(Map<String, Object> m) {
        if (m == null) {
            return "–";
        }
        return fmt(num(m.get("p50"))) + " / " + fmt(num(m.get("p90"))) + " / " + fmt(num(m.get("p99")));
    }

    private static String inline(Map<String, Object> m) {
        if (m.isEmpty()) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        m.forEach((k, v) -> s.append(s.length() == 0 ? "" : ", ").append(k).append(": ").append(v));
        return s.toString();
    }

    @SuppressWarnings("unchecked")
    private static void throughput(StringBuilder b, Map<String, Object> doc, Map<String, Object> timeline,
                                   List<Map<String, Object>> rows, double step, String stepWords) {
        Map<String, Object> capture = (Map<String, Object>) timeline.getOrDefault("capture", Map.of());
        double active = num(timeline.get("activeSeconds"));
        double replayRate = active > 0 ? num(capture.get("messages")) / active : 0;
        double captureRate = num(capture.get("perSecond"));
        b.append("<p>Replayed ").append(fmt(replayRate)).append(" requests per second from the first request sent to the "
                + "last answer (").append(fmt(active)).append(" s); production sent ")
                .append(captureRate > 0 ? fmt(captureRate) + " per second over the " + fmt(num(capture.get("seconds")))
                        + " s the replayed messages span in the capture" : "them within no measurable time")
                .append(captureRate > 0 ? String.format(Locale.ROOT, " (replay ÷ production: %.2f).", replayRate / captureRate)
                        : ".").append("</p>\n");
        List<Series> lines = new ArrayList<>();
        double perSecond = step > 0 ? 1 / step : 1;
        lines.add(series(rows, "sent", null, perSecond, TEST, "requests sent to the test server per second", false));
        double speed = parseSpeed(String.valueOf(doc.get("speed")));
        List<?> captured = (List<?>) capture.getOrDefault("sentPerStep", List.of());
        double cStep = num(capture.get("stepSeconds"));
        if (speed > 0 && !captured.isEmpty() && cStep > 0) {
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < captured.size(); i++) {
                pts.add(new double[] {i * cStep / speed, num(captured.get(i)) / cStep * speed});
            }
            lines.add(new Series(pts, PROD, "production's rate, its own timing" + (speed == 1 ? "" : " ÷ speed " + fmt(speed)), true));
        } else if (captureRate > 0 && !rows.isEmpty()) {
            List<double[]> pts = new ArrayList<>();
            pts.add(new double[] {0, captureRate});
            pts.add(new double[] {num(rows.get(rows.size() - 1).get("startSeconds")), captureRate});
            lines.add(new Series(pts, PROD, "production's average rate (the run was at speed max)", true));
        }
        chart(b, lines, "requests per second", "seconds since the run started; " + stepWords, 0);
    }

    private static double parseSpeed(String s) {
        try {
            return Double.parseDouble(s.endsWith("x") ? s.substring(0, s.length() - 1) : s);
        } catch (NumberFormatException e) {
            return -1; // max
        }
    }

    /** A series from the timeline rows: {@code key} (or {@code key.sub}) times {@code scale}, at each row's start. */
    @SuppressWarnings("unchecked")
    private static Series series(List<Map<String, Object>> rows, String key, String sub, double scale, String color,
                                 String legend, boolean dashed) {
        List<double[]> pts = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Object v = r.get(key);
            if (sub != null) {
                v = v instanceof Map<?, ?> m ? ((Map<String, Object>) m).get(sub) : null;
            }
            if (v instanceof Number n) {
                pts.add(new double[] {num(r.get("startSeconds")), n.doubleValue() * scale});
            }
        }
        return new Series(pts, color, legend, dashed);
    }

    private static void chart(StringBuilder b, List<Series> lines, String yWords, String xWords, double yMin) {
        double maxX = 0;
        double maxY = 0;
        boolean any = false;
        for (Series s : lines) {
            for (double[] p : s.points) {
                maxX = Math.max(maxX, p[0]);
                maxY = Math.max(maxY, p[1]);
                any = true;
            }
        }
        if (!any) {
            b.append("<p class=\"muted\">No data.</p>\n");
            return;
        }
        maxX = maxX <= 0 ? 1 : maxX;
        maxY = niceCeil(maxY <= yMin ? 1 : maxY * 1.05);
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        b.append("<svg width=\"").append(W).append("\" height=\"").append(H).append("\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\" role=\"img\" aria-label=\"").append(esc(yWords))
                .append(" over ").append(esc(xWords)).append("\">");
        for (int k = 0; k <= 4; k++) {
            double v = maxY * k / 4;
            double y = TOP + ph - ph * k / 4.0;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>",
                    LEFT, y, W - RIGHT, y, k == 0 ? "#999" : "#e4e4e4"));
            b.append(text(LEFT - 6, y + 4, fmt(v), "end"));
        }
        for (int k = 0; k <= 4; k++) {
            double x = LEFT + pw * k / 4.0;
            b.append(text((int) x, TOP + ph + 14, fmt(maxX * k / 4), "middle"));
        }
        b.append(text(LEFT + pw / 2, H - 4, xWords, "middle"));
        b.append(String.format(Locale.ROOT,
                "<text x=\"12\" y=\"%d\" font-size=\"11\" fill=\"#555\" text-anchor=\"middle\" transform=\"rotate(-90 12 %d)\">%s</text>",
                TOP + ph / 2, TOP + ph / 2, esc(yWords)));
        for (Series s : lines) {
            List<String> pts = new ArrayList<>();
            for (double[] p : s.points) {
                double x = LEFT + pw * p[0] / maxX;
                double y = TOP + ph - ph * p[1] / maxY;
                pts.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
                b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" fill=\"%s\"><title>%s at %s s: %s %s</title></circle>",
                        x, y, s.color, esc(s.legend), fmt(p[0]), fmt(p[1]), esc(yWords)));
            }
            if (pts.size() > 1) {
                b.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(s.color).append('"')
                        .append(s.dashed ? " stroke-dasharray=\"5 3\"" : "")
                        .append(" points=\"").append(String.join(" ", pts)).append("\"/>");
            }
        }
        b.append("</svg>\n<div class=\"legend\">");
        for (Series s : lines) {
            b.append("<span><i class=\"sw\" style=\"background:").append(s.color).append("\"></i>")
                    .append(esc(s.legend)).append("</span>");
        }
        b.append("</div>\n");
    }

    /** The next of 1, 2, 2.5, 5 × 10^k at or above {@code v}, so axis ticks are round numbers. */
    private static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    @SuppressWarnings("unchecked")
    private static void ledger(StringBuilder b, Map<String, Object> l, Map<String, Object> problems) {
        String[][] steps = {{"captured", "sessions captured (read)"}, {"inWindow", "in window (replay started)"},
                {"replayed", "replayed"}, {"answered", "answered (every message)"}};
        double first = num(l.get("captured"));
        b.append("<table>");
        for (String[] s : steps) {
            double v = num(l.get(s[0]));
            double share = first > 0 ? Math.min(1.0, v / first) : 0;
            b.append("<tr><th>").append(esc(s[1])).append("</th><td class=\"n\">").append(fmt(v)).append("</td><td>")
                    .append("<svg width=\"300\" height=\"12\" role=\"img\" aria-label=\"").append(fmt(v)).append("\">")
                    .append("<rect width=\"").append(Math.round(300 * share)).append("\" height=\"12\" fill=\"#36c\"/></svg>")
                    .append("</td></tr>");
        }
        b.append("</table>\n<p>Why the counts differ:</p>\n");
        Map<String, Object> reasons = new LinkedHashMap<>();
        ((Map<String, Object>) l.getOrDefault("leftOutByReason", Map.of()))
                .forEach((k, v) -> reasons.put("captured → in window: " + k, v));
        ((Map<String, Object>) l.getOrDefault("notReplayedByOutcome", Map.of()))
                .forEach((k, v) -> reasons.put("in window → replayed: " + k, v));
        reasons.put("replayed → answered: a message timed out, or the target refused its every HTTP/2 stream",
                l.getOrDefault("replayedNotAllAnswered", 0));
        reasons.put("note: replayed whole past the window end", l.getOrDefault("continuedAfterWindowEnd", 0));
        reasons.put("note: replayed with holes in the capture", l.getOrDefault("incompleteCaptures", 0));
        table(b, reasons);
        if (!problems.isEmpty()) {
            b.append("<p>Problems by reason:</p>\n");
            table(b, problems);
        }
    }

    private static void statusBars(StringBuilder b, Map<String, Object> codes) {
        if (codes.isEmpty()) {
            b.append("<p class=\"muted\">No HTTP answers read.</p>\n");
            return;
        }
        double total = 0;
        for (Object v : codes.values()) {
            total += num(v);
        }
        b.append("<table>");
        for (Map.Entry<String, Object> e : codes.entrySet()) {
            double v = num(e.getValue());
            String color = e.getKey().startsWith("2") ? "#2a7" : e.getKey().startsWith("3") ? "#36c"
                    : e.getKey().startsWith("4") ? "#e90" : "#c33";
            b.append("<tr><th>").append(esc(e.getKey())).append("</th><td class=\"n\">").append(fmt(v))
                    .append("</td><td><svg width=\"300\" height=\"12\" role=\"img\"><rect width=\"")
                    .append(total > 0 ? Math.round(300.0 * v / total) : 0).append("\" height=\"12\" fill=\"")
                    .append(color).append("\"/></svg></td></tr>");
        }
        b.append("</table>\n");
    }

    private static void table(StringBuilder b, Map<String, Object> m) {
        if (m.isEmpty()) {
            b.append("<p class=\"muted\">None.</p>\n");
            return;
        }
        b.append("<table>");
        m.forEach((k, v) -> b.append("<tr><th>").append(esc(k)).append("</th><td class=\"n\">")
                .append(esc(String.valueOf(v))).append("</td></tr>"));
        b.append("</table>\n");
    }

    private static String text(int x, double y, String s, String anchor) {
        return String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#555\" text-anchor=\"%s\">%s</text>",
                x, y, anchor, esc(s));
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }

    private static String fmt(double v) {
        if (v >= 100 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, v >= 1 ? "%.1f" : "%.3f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    private static String esc(String s) {
        StringBuilder o = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> o.append("&lt;");
                case '>' -> o.append("&gt;");
                case '&' -> o.append("&amp;");
                case '"' -> o.append("&quot;");
                default -> o.append(c);
            }
        }
        return o.toString();
    }
}
