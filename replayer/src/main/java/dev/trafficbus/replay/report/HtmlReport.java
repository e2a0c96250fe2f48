package dev.trafficbus.replay.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a run report as one self-contained HTML page: inline CSS and SVG charts, no script and nothing
 * fetched, so it opens anywhere, also offline: latency percentiles over time, throughput, errors, the status
 * code mix, and the loss ledger from captured sessions to answered ones with every difference's reason.
 */
public final class HtmlReport {
    private static final int W = 760;
    private static final int H = 200;
    private static final int PAD = 40;

    private HtmlReport() {
    }

    /** The page for report document {@code doc} (as written to the JSON report). */
    public static String render(Map<String, Object> doc) {
        return render(doc, Map.of());
    }

    /**
     * The page for {@code doc} with the figures of the steps before the replay (e.g. standalone's broker start
     * and pcap import) as one table per step, headed by its key, between the settings and the loss ledger.
     */
    @SuppressWarnings("unchecked")
    public static String render(Map<String, Object> doc, Map<String, Map<String, Object>> stepsBefore) {
        StringBuilder b = new StringBuilder(32 * 1024);
        String run = String.valueOf(doc.get("run"));
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>trafficbus replay ").append(esc(run)).append("</title><style>")
                .append("body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:820px}")
                .append("h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}")
                .append("table{border-collapse:collapse}td,th{padding:3px 10px;text-align:left;border-bottom:1px solid #eee}")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}")
                .append(".legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}")
                .append("svg{background:#fafafa;border:1px solid #eee}.muted{color:#777}")
                .append("</style></head><body>\n");
        b.append("<h1>Replay run ").append(esc(run)).append("</h1>\n");
        Map<String, Object> settings = new java.util.LinkedHashMap<>();
        for (String k : List.of("topic", "target", "group", "speed", "rate", "loops", "window", "seconds")) {
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

        Map<String, Object> ledger = (Map<String, Object>) doc.getOrDefault("ledger", Map.of());
        b.append("<h2>Loss ledger</h2>\n");
        ledger(b, ledger, (Map<String, Object>) doc.getOrDefault("problems", Map.of()));

        Map<String, Object> timeline = (Map<String, Object>) doc.get("timeline");
        List<Map<String, Object>> rows = timeline == null ? List.of()
                : (List<Map<String, Object>>) timeline.getOrDefault("perSecond", List.of());
        b.append("<h2>Latency percentiles over time</h2>\n");
        lines(b, rows, new String[] {"p50Micros", "p90Micros", "p99Micros"}, new String[] {"#2a7", "#e90", "#c33"},
                "ms", 1e-3);
        b.append("<h2>Throughput</h2>\n");
        lines(b, rows, new String[] {"sent", "answered"}, new String[] {"#36c", "#2a7"}, "messages per step", 1);
        b.append("<h2>Errors</h2>\n");
        lines(b, rows, new String[] {"errors"}, new String[] {"#c33"}, "errors per step", 1);
        if (timeline != null) {
            table(b, (Map<String, Object>) timeline.getOrDefault("errors", Map.of()));
        }
        b.append("<h2>Status code mix</h2>\n");
        statusBars(b, timeline == null ? Map.of() : (Map<String, Object>) timeline.getOrDefault("statusCodes", Map.of()));
        b.append("<p class=\"muted\">Made by trafficbus replay. Steps are ")
                .append(rows.isEmpty() ? "1" : String.valueOf(rows.get(0).getOrDefault("seconds", 1)))
                .append(" s wide.</p>\n</body></html>\n");
        return b.toString();
    }

    @SuppressWarnings("unchecked")
    private static void ledger(StringBuilder b, Map<String, Object> l, Map<String, Object> problems) {
        String[][] steps = {{"captured", "sessions captured (read)"}, {"inWindow", "in window (replay started)"},
                {"replayed", "replayed"}, {"answered", "answered (every message)"}};
        long first = num(l.get("captured"));
        b.append("<table>");
        for (String[] s : steps) {
            long v = num(l.get(s[0]));
            double share = first > 0 ? Math.min(1.0, (double) v / first) : 0;
            b.append("<tr><th>").append(esc(s[1])).append("</th><td class=\"n\">").append(v).append("</td><td>")
                    .append("<svg width=\"300\" height=\"12\" role=\"img\" aria-label=\"").append(v).append("\">")
                    .append("<rect width=\"").append(Math.round(300 * share)).append("\" height=\"12\" fill=\"#36c\"/></svg>")
                    .append("</td></tr>");
        }
        b.append("</table>\n<p>Why the counts differ:</p>\n");
        Map<String, Object> reasons = new java.util.LinkedHashMap<>();
        ((Map<String, Object>) l.getOrDefault("leftOutByReason", Map.of()))
                .forEach((k, v) -> reasons.put("captured → in window: " + k, v));
        ((Map<String, Object>) l.getOrDefault("notReplayedByOutcome", Map.of()))
                .forEach((k, v) -> reasons.put("in window → replayed: " + k, v));
        reasons.put("replayed → answered: a message timed out", l.getOrDefault("replayedNotAllAnswered", 0));
        reasons.put("note: replayed whole past the window end", l.getOrDefault("continuedAfterWindowEnd", 0));
        reasons.put("note: replayed with holes in the capture", l.getOrDefault("incompleteCaptures", 0));
        table(b, reasons);
        if (!problems.isEmpty()) {
            b.append("<p>Problems by reason:</p>\n");
            table(b, problems);
        }
    }

    private static void lines(StringBuilder b, List<Map<String, Object>> rows, String[] keys, String[] colors,
                              String unit, double scale) {
        if (rows.isEmpty()) {
            b.append("<p class=\"muted\">No data.</p>\n");
            return;
        }
        double max = 0;
        for (Map<String, Object> r : rows) {
            for (String k : keys) {
                max = Math.max(max, num(r.get(k)) * scale);
            }
        }
        max = max <= 0 ? 1 : max * 1.1;
        int n = rows.size();
        double dx = n > 1 ? (double) (W - 2 * PAD) / (n - 1) : 0;
        b.append("<svg width=\"").append(W).append("\" height=\"").append(H).append("\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\" role=\"img\">");
        b.append("<line x1=\"").append(PAD).append("\" y1=\"").append(H - PAD / 2).append("\" x2=\"").append(W - PAD)
                .append("\" y2=\"").append(H - PAD / 2).append("\" stroke=\"#999\"/>");
        b.append(text(2, 14, fmt(max) + " " + unit)).append(text(2, H - PAD / 2, "0"));
        b.append(text(W - PAD - 60, H - 4, (num(rows.get(n - 1).get("second"))) + " s"));
        for (int k = 0; k < keys.length; k++) {
            List<String> pts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long raw = num(rows.get(i).get(keys[k]));
                if (raw < 0) {
                    continue; // nothing answered in that step
                }
                double y = (H - PAD / 2.0) - (raw * scale / max) * (H - PAD);
                double x = PAD + (n > 1 ? i * dx : (W - 2 * PAD) / 2.0);
                pts.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
                b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"><title>%s %s at %d s: %s</title></circle>",
                        x, y, colors[k], esc(keys[k]), esc(unit), num(rows.get(i).get("second")), fmt(raw * scale)));
            }
            if (pts.size() > 1) {
                b.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(colors[k])
                        .append("\" points=\"").append(String.join(" ", pts)).append("\"/>");
            }
        }
        b.append("</svg>\n<div class=\"legend\">");
        for (int k = 0; k < keys.length; k++) {
            b.append("<span><i class=\"sw\" style=\"background:").append(colors[k]).append("\"></i>")
                    .append(esc(keys[k])).append("</span>");
        }
        b.append("</div>\n");
    }

    private static void statusBars(StringBuilder b, Map<String, Object> codes) {
        if (codes.isEmpty()) {
            b.append("<p class=\"muted\">No HTTP answers read.</p>\n");
            return;
        }
        long total = 0;
        for (Object v : codes.values()) {
            total += num(v);
        }
        b.append("<table>");
        for (Map.Entry<String, Object> e : codes.entrySet()) {
            long v = num(e.getValue());
            String color = e.getKey().startsWith("2") ? "#2a7" : e.getKey().startsWith("3") ? "#36c"
                    : e.getKey().startsWith("4") ? "#e90" : "#c33";
            b.append("<tr><th>").append(esc(e.getKey())).append("</th><td class=\"n\">").append(v)
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

    private static String text(int x, int y, String s) {
        return "<text x=\"" + x + "\" y=\"" + y + "\" font-size=\"11\" fill=\"#555\">" + esc(s) + "</text>";
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    private static String fmt(double v) {
        return v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
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
