package dev.trafficbus.capture;

import dev.trafficbus.bus.Topics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The counters of one pcap import.
 *
 * @param topic            the capture topic written to
 * @param packetsRead      frames read from the file
 * @param packetsPublished packets in the records the broker acknowledged
 * @param recordsPublished records the broker acknowledged (each holds one or more packets of one flow)
 * @param publishErrors    packets that could not be published
 * @param skippedByReason  frames not published, by {@link SkipReason#label()} (every reason present, in order)
 * @param bytesPublished   key plus value bytes acknowledged
 * @param seconds          wall time from the first read to the last acknowledgement
 * @param fileTruncated    the file ends inside a record: what came before it was read
 * @param fileDamage       null, or what made the rest of the file unreadable (an impossible record length, ...)
 * @param redaction        fields masked per rule before publishing, and what could not be checked
 * @param decapsulated     accepted packets read from inside a tunnel, by outermost {@code Encapsulation#label()}
 *                         (only kinds seen, in enum order)
 */
public record ForwardSummary(String topic, long packetsRead, long packetsPublished, long recordsPublished,
                             long publishErrors,
                             Map<String, Long> skippedByReason, long bytesPublished, double seconds,
                             boolean fileTruncated, String fileDamage, RedactionCounts redaction,
                             Map<String, Long> decapsulated) {

    public ForwardSummary {
        skippedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(skippedByReason));
        decapsulated = Collections.unmodifiableMap(new LinkedHashMap<>(decapsulated));
    }

    /** A summary of packets none of which came from inside a tunnel. */
    public ForwardSummary(String topic, long packetsRead, long packetsPublished, long recordsPublished,
                          long publishErrors, Map<String, Long> skippedByReason, long bytesPublished, double seconds,
                          boolean fileTruncated, String fileDamage, RedactionCounts redaction) {
        this(topic, packetsRead, packetsPublished, recordsPublished, publishErrors, skippedByReason, bytesPublished,
                seconds, fileTruncated, fileDamage, redaction, Map.of());
    }

    /** A summary without redaction counts. */
    public ForwardSummary(String topic, long packetsRead, long packetsPublished, long recordsPublished,
                          long publishErrors, Map<String, Long> skippedByReason, long bytesPublished, double seconds,
                          boolean fileTruncated, String fileDamage) {
        this(topic, packetsRead, packetsPublished, recordsPublished, publishErrors, skippedByReason, bytesPublished,
                seconds, fileTruncated, fileDamage, RedactionCounts.NONE);
    }

    /** A summary of a file that is not damaged. */
    public ForwardSummary(String topic, long packetsRead, long packetsPublished, long recordsPublished,
                          long publishErrors, Map<String, Long> skippedByReason, long bytesPublished, double seconds,
                          boolean fileTruncated) {
        this(topic, packetsRead, packetsPublished, recordsPublished, publishErrors, skippedByReason, bytesPublished,
                seconds, fileTruncated, null);
    }

    /** True when the file was read to its end (neither truncated nor damaged). */
    public boolean fileComplete() {
        return !fileTruncated && fileDamage == null;
    }

    /**
     * Null for a complete file, else what to say after the file's name: "is truncated after 29 packets" or
     * "is damaged after 29 packets (the next record claims ...)".
     */
    public String fileProblem() {
        if (fileTruncated) {
            return "is truncated after " + packetsRead + " packets";
        }
        return fileDamage == null ? null : "is damaged after " + packetsRead + " packets (" + fileDamage + ")";
    }

    /** Frames skipped for any reason. */
    public long packetsSkipped() {
        return skippedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * One human line: "forward web1: 1234 packets read, 1200 published in 310 records to tb.capture.web1 (1.2 MB)
     * in 0.8 s; skipped: not-tcp 20, not-port 14; decapsulated: vxlan 120; redacted: header:Cookie 12".
     */
    public String summaryLine() {
        String source = topic.startsWith(Topics.CAPTURE_PREFIX) ? topic.substring(Topics.CAPTURE_PREFIX.length()) : topic;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "forward %s: %d packets read, %d published in %d records to %s (%s) in %.1f s",
                source, packetsRead, packetsPublished, recordsPublished, topic, megabytes(bytesPublished), seconds));
        String separator = "; skipped: ";
        for (Map.Entry<String, Long> e : skippedByReason.entrySet()) {
            if (e.getValue() > 0) {
                sb.append(separator).append(e.getKey()).append(' ').append(e.getValue());
                separator = ", ";
            }
        }
        separator = "; decapsulated: ";
        for (Map.Entry<String, Long> e : decapsulated.entrySet()) {
            sb.append(separator).append(e.getKey()).append(' ').append(e.getValue());
            separator = ", ";
        }
        redaction.appendTo(sb);
        if (publishErrors > 0) {
            sb.append("; ").append(publishErrors).append(" publish errors");
        }
        if (fileTruncated) {
            sb.append("; file truncated");
        } else if (fileDamage != null) {
            sb.append("; file damaged");
        }
        return sb.toString();
    }

    private static String megabytes(long bytes) {
        return bytes < 100_000 ? String.format(Locale.ROOT, "%.1f KB", bytes / 1e3)
                : String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
