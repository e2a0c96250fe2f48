package dev.trafficbus.replay;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ledger of one replay run. Every session seen ends as exactly one of replayed, incomplete (replayed,
 * but the capture missed some of the client's bytes), failed, or not replayed (counted in
 * {@code problemsByReason} as {@code no-client-data} or {@code interrupted}).
 *
 * @param sessionsSeen       captured connections found in the topic
 * @param sessionsReplayed   replayed to their end with every captured byte
 * @param sessionsFailed     the connection to the target could not be made or broke
 * @param sessionsIncomplete replayed to their end, with holes in the captured client stream
 * @param messagesSent       client messages written to the target
 * @param messagesAnswered   messages answered with at least one byte
 * @param bytesSent          bytes written to the target
 * @param bytesReceived      bytes the target sent back
 * @param problemsByReason   counts by reason: skipped records, gaps, timeouts, connection failures, ...
 * @param recordsConsumed    Kafka records read
 * @param recordsSkipped     records whose value did not decode ({@code undecodable} in problemsByReason)
 * @param packetsConsumed    packets in the records that decoded: each is used or skipped
 * @param packetsSkipped     packets that were not replayable (their reasons are in problemsByReason)
 * @param seconds            wall time of the run
 * @param answersJudged      answers by how their end was known: framing, size, silence, close, timeout
 * @param webSocket          sessions that switched to WebSocket and their frames by direction and opcode (empty
 *                           without WebSocket)
 * @param tlsHandshakes      TLS handshakes by kind: full, resumed, unknown (empty without TLS)
 */
public record ReplaySummary(long sessionsSeen, long sessionsReplayed, long sessionsFailed, long sessionsIncomplete,
                            long messagesSent, long messagesAnswered, long bytesSent, long bytesReceived,
                            Map<String, Long> problemsByReason, long recordsConsumed, long recordsSkipped,
                            long packetsConsumed, long packetsSkipped, double seconds,
                            Map<String, Long> answersJudged, Map<String, Object> webSocket,
                            Map<String, Long> tlsHandshakes) {
    /** Exit code: every session was replayed and every message answered. */
    public static final int EXIT_OK = 0;
    /** Exit code: a session failed, or none reached the target. */
    public static final int EXIT_FAILED = 1;
    /** Exit code: sessions reached the target, but some ended incomplete or with messages left unanswered. */
    public static final int EXIT_INCOMPLETE = 3;

    public ReplaySummary {
        problemsByReason = Map.copyOf(problemsByReason);
        answersJudged = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(answersJudged));
        webSocket = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(webSocket));
        tlsHandshakes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tlsHandshakes));
    }

    /** Answers judged {@code label} ({@code framing}, {@code size}, {@code silence}, {@code close}, {@code timeout}). */
    public long answersJudged(String label) {
        return answersJudged.getOrDefault(label, 0L);
    }

    /** Sessions seen that were neither replayed, incomplete nor failed. */
    public long sessionsNotReplayed() {
        return sessionsSeen - sessionsReplayed - sessionsIncomplete - sessionsFailed;
    }

    /** Messages sent that no byte answered (timed out, or the target said nothing). */
    public long messagesUnanswered() {
        return Math.max(0, messagesSent - messagesAnswered);
    }

    /** {@link #EXIT_FAILED}, {@link #EXIT_INCOMPLETE} or {@link #EXIT_OK}, in that order of precedence. */
    public int exitCode() {
        if (sessionsFailed > 0 || sessionsReplayed + sessionsIncomplete == 0) {
            return EXIT_FAILED;
        }
        return sessionsIncomplete > 0 || messagesUnanswered() > 0 ? EXIT_INCOMPLETE : EXIT_OK;
    }

    /** Why the run ends with {@link #EXIT_INCOMPLETE}, e.g. "5 sessions incomplete, 8 messages unanswered"; else null. */
    public String incompleteness() {
        if (exitCode() != EXIT_INCOMPLETE) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        if (sessionsIncomplete > 0) {
            sb.append(sessionsIncomplete).append(" of ").append(sessionsSeen).append(" sessions incomplete");
        }
        if (messagesUnanswered() > 0) {
            sb.append(sb.isEmpty() ? "" : ", ").append(messagesUnanswered()).append(" of ").append(messagesSent)
                    .append(" messages unanswered");
        }
        return sb.toString();
    }

    /** Messages sent per second of the run. */
    public double messagesPerSecond() {
        return seconds > 0 ? messagesSent / seconds : 0;
    }

    /** One human line, e.g. for the end of a command. */
    public String summaryLine() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "replayed %d of %d sessions (%d incomplete, %d failed, %d not replayed); ",
                sessionsReplayed, sessionsSeen, sessionsIncomplete, sessionsFailed, sessionsNotReplayed()));
        sb.append(String.format(Locale.ROOT, "%d messages sent, %d answered; %s sent, %s received; ",
                messagesSent, messagesAnswered, size(bytesSent), size(bytesReceived)));
        sb.append(String.format(Locale.ROOT, "%.1f s, %.0f msg/s; records %d consumed, %d skipped; "
                + "packets %d consumed, %d skipped", seconds, messagesPerSecond(), recordsConsumed, recordsSkipped,
                packetsConsumed, packetsSkipped));
        if (!answersJudged.isEmpty()) {
            sb.append("; answers judged by");
            answersJudged.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        }
        if (!webSocket.isEmpty()) {
            sb.append("; websocket: ").append(webSocket.get("sessions")).append(" sessions, frames sent ")
                    .append(webSocket.get("sent")).append(" received ").append(webSocket.get("received"));
        }
        if (!tlsHandshakes.isEmpty()) {
            sb.append("; TLS handshakes");
            tlsHandshakes.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        }
        if (!problemsByReason.isEmpty()) {
            sb.append("; problems:");
            new TreeMap<>(problemsByReason).forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        }
        return sb.toString();
    }

    /** The ledger as an ordered map, ready for a JSON writer. */
    public Map<String, Object> toReport() {
        Map<String, Object> report = new LinkedHashMap<>();
        Map<String, Object> sessions = new LinkedHashMap<>();
        sessions.put("seen", sessionsSeen);
        sessions.put("replayed", sessionsReplayed);
        sessions.put("incomplete", sessionsIncomplete);
        sessions.put("failed", sessionsFailed);
        sessions.put("notReplayed", sessionsNotReplayed());
        report.put("sessions", sessions);
        Map<String, Object> messages = new LinkedHashMap<>();
        messages.put("sent", messagesSent);
        messages.put("answered", messagesAnswered);
        messages.put("perSecond", Math.round(messagesPerSecond() * 10) / 10.0);
        report.put("messages", messages);
        report.put("answers", answersJudged);
        if (!webSocket.isEmpty()) {
            report.put("websocket", webSocket);
        }
        if (!tlsHandshakes.isEmpty()) {
            report.put("tlsHandshakes", tlsHandshakes);
        }
        Map<String, Object> bytes = new LinkedHashMap<>();
        bytes.put("sent", bytesSent);
        bytes.put("received", bytesReceived);
        report.put("bytes", bytes);
        Map<String, Object> records = new LinkedHashMap<>();
        records.put("consumed", recordsConsumed);
        records.put("skipped", recordsSkipped);
        report.put("records", records);
        Map<String, Object> packets = new LinkedHashMap<>();
        packets.put("consumed", packetsConsumed);
        packets.put("skipped", packetsSkipped);
        report.put("packets", packets);
        report.put("problems", new TreeMap<>(problemsByReason));
        report.put("seconds", Math.round(seconds * 1000) / 1000.0);
        return report;
    }

    private static String size(long bytes) {
        if (bytes < 10_000) {
            return bytes + " B";
        }
        if (bytes < 10_000_000) {
            return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
