package dev.trafficbus.export;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The counters of one export. Every packet read is written, outside the window, or skipped by reason
 * ({@code packetsRead = packetsWritten + outsideWindow + packetsSkipped()}); a record whose value does not decode has
 * no packets to count and is a skipped record instead.
 *
 * @param topic                  the topic read
 * @param output                 the pcap file written
 * @param window                 the capture-time window
 * @param recordsRead            records consumed between the start and end offsets
 * @param recordsSkippedByReason records not decoded, by {@link ExportSkipReason#label()} (every per-record reason)
 * @param packetsRead            packets in the records that decoded
 * @param packetsWritten         packets written to the file
 * @param outsideWindow          packets read whose own capture time fell outside the window (offsets are found by
 *                               the Kafka timestamp in ms, a record's packets span a few ms, and the reading starts
 *                               the reorder window early and ends {@link PcapExporter#LATE_RECORDS} late, so packets
 *                               at the edges are read and left out)
 * @param packetsSkippedByReason packets in the window not written, by label (every per-packet reason)
 * @param outOfOrder             packets written after a packet captured later than them (they came later than the
 *                               reorder window allowed for); they are in {@code packetsWritten} too
 * @param bytesWritten           size of the file
 * @param seconds                wall time of the read and write
 * @param stoppedEarly           a stop request ended the export before the end of the window
 */
public record ExportSummary(String topic, Path output, TimeWindow window, long recordsRead,
                            Map<String, Long> recordsSkippedByReason, long packetsRead, long packetsWritten,
                            long outsideWindow, Map<String, Long> packetsSkippedByReason, long outOfOrder,
                            long bytesWritten, double seconds, boolean stoppedEarly) {
    public ExportSummary {
        recordsSkippedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(recordsSkippedByReason));
        packetsSkippedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(packetsSkippedByReason));
    }

    /** Records skipped for any reason. */
    public long recordsSkipped() {
        return recordsSkippedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Packets skipped for any reason. */
    public long packetsSkipped() {
        return packetsSkippedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * One human line, e.g. "export tb.capture.web1 (start to end): 40 records read (120 packets), 120 packets written
     * to w.pcap (...)", then what was left out and why.
     */
    public String summaryLine() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "export %s (%s): %d records read (%d packets), %d packets written to %s (%s) in %.1f s",
                topic, window.describe(), recordsRead, packetsRead, packetsWritten, output, size(bytesWritten), seconds));
        if (outsideWindow > 0) {
            sb.append("; outside the window ").append(outsideWindow);
        }
        appendCounts(sb, "; packets skipped:", packetsSkippedByReason);
        appendCounts(sb, "; records skipped:", recordsSkippedByReason);
        if (outOfOrder > 0) {
            sb.append("; out-of-order ").append(outOfOrder).append(" (written late; a longer --reorder-window avoids it)");
        }
        if (stoppedEarly) {
            sb.append("; stopped on request before the end of the window");
        }
        return sb.toString();
    }

    private static void appendCounts(StringBuilder sb, String title, Map<String, Long> counts) {
        String sep = title + " ";
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() > 0) {
                sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                sep = ", ";
            }
        }
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
    }
}
