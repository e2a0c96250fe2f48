package dev.trafficbus.status;

import dev.trafficbus.status.StatusReport.GroupStatus;
import dev.trafficbus.status.StatusReport.RunStatus;
import dev.trafficbus.status.StatusReport.SubscriptionStatus;
import dev.trafficbus.status.StatusReport.TopicLag;
import dev.trafficbus.status.StatusReport.TopicStats;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Renders a {@link StatusReport} as the text tables a person reads on a terminal. */
final class StatusText {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final int MAX_CELL = 100;

    private StatusText() {
    }

    static void print(StatusReport report, PrintWriter out) {
        out.println("Kafka " + report.bootstrapServers());
        out.println();
        out.println("SOURCES");
        List<String[]> rows = new ArrayList<>();
        for (TopicStats s : report.sources()) {
            rows.add(new String[] {s.topic(), String.valueOf(s.partitions()), String.valueOf(s.replicationFactor()),
                    s.retention(), String.valueOf(s.records()), time(s.newestMillis())});
        }
        table(out, new String[] {"topic", "partitions", "replication", "retention", "records", "newest record"}, rows);

        out.println();
        out.println("SUBSCRIPTIONS");
        rows = new ArrayList<>();
        for (SubscriptionStatus s : report.subscriptions()) {
            rows.add(new String[] {s.name(), s.topic() == null ? "-" : s.topic().topic(),
                    s.topic() == null ? "-" : String.valueOf(s.topic().records()),
                    s.topic() == null ? "-" : time(s.topic().newestMillis()),
                    String.valueOf(s.instances()),
                    s.counters().isEmpty() ? "-" : s.counters().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining(" ")),
                    s.definition() == null ? "(no definition stored)" : s.definition().replaceAll("\\s+", " ").trim()});
        }
        table(out, new String[] {"name", "topic", "records", "newest record", "instances", "counters (summed)", "definition"}, rows);

        out.println();
        out.println("CONSUMER GROUPS");
        rows = new ArrayList<>();
        for (GroupStatus g : report.groups()) {
            if (g.error() != null) {
                rows.add(new String[] {g.group(), g.type(), g.state(), "-", "-", "error: " + g.error()});
            } else if (g.topics().isEmpty()) {
                rows.add(new String[] {g.group(), g.type(), g.state(), "-", "-", "-"});
            }
            for (TopicLag t : g.topics()) {
                rows.add(new String[] {g.group(), g.type(), g.state(), t.topic(), String.valueOf(t.committed()), String.valueOf(t.lag())});
            }
        }
        table(out, new String[] {"group", "type", "state", "topic", "committed", "lag"}, rows);

        out.println();
        out.println("LATEST RUNS");
        rows = new ArrayList<>();
        for (RunStatus r : report.runs()) {
            rows.add(new String[] {r.runId(), time(r.timeMillis()), count(r.sessionsSeen()), count(r.sessionsReplayed()),
                    count(r.sessionsFailed())});
        }
        table(out, new String[] {"run", "time", "sessions seen", "replayed", "failed"}, rows);
        out.flush();
    }

    private static String count(Long n) {
        return n == null ? "-" : String.valueOf(n);
    }

    private static String time(Long millis) {
        return millis == null ? "-" : TIME.format(Instant.ofEpochMilli(millis));
    }

    private static void table(PrintWriter out, String[] header, List<String[]> rows) {
        if (rows.isEmpty()) {
            out.println("  (none)");
            return;
        }
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
        }
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                r[i] = r[i].length() > MAX_CELL ? r[i].substring(0, MAX_CELL - 3) + "..." : r[i];
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        line(out, header, width);
        rows.forEach(r -> line(out, r, width));
    }

    private static void line(PrintWriter out, String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder("  ");
        for (int i = 0; i < cells.length; i++) {
            sb.append(i == cells.length - 1 ? cells[i] : String.format("%-" + width[i] + "s  ", cells[i]));
        }
        out.println(sb.toString().stripTrailing());
    }
}
