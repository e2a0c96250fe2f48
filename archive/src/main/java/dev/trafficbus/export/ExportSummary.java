package dev.trafficbus.export;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The counters of one export: every record read from the topic is written, outside the window, or skipped by reason.
 *
 * @param topic           the topic read
 * @param output          the pcap file written
 * @param window          the capture-time window
 * @param recordsRead     records consumed between the start and end offsets
 * @param packetsWritten  packets written to the file
 * @param outsideWindow   records read whose capture time fell outside the window (offsets are found by the Kafka
 *                        timestamp in ms, and the end looks {@link PcapExporter#LATE_RECORDS} further for records
 *                        published late, so records at the edges are read and left out)
 * @param skippedByReason records in the window not written, by {@link ExportSkipReason#label()} (every reason present)
 * @param bytesWritten    size of the file
 * @param seconds         wall time of the read and write
 * @param stoppedEarly    a stop request ended the export before the end of the window
 */
public record ExportSummary(String topic, Path output, TimeWindow window, long recordsRead, long packetsWritten,
                            long outsideWindow, Map<String, Long> skippedByReason, long bytesWritten, double seconds,
                            boolean stoppedEarly) {
    public ExportSummary {
        skippedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(skippedByReason));
    }

    public long skipped() {
        return skippedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** One human line, e.g. "export tb.capture.web1 (start to end): 120 records read, 120 packets written to w.pcap (...)". */
    public String summaryLine() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "export %s (%s): %d records read, %d packets written to %s (%s) in %.1f s",
                topic, window.describe(), recordsRead, packetsWritten, output, size(bytesWritten), seconds));
        if (outsideWindow > 0) {
            sb.append("; outside the window ").append(outsideWindow);
        }
        if (skipped() > 0) {
            sb.append("; skipped:");
            String sep = " ";
            for (Map.Entry<String, Long> e : skippedByReason.entrySet()) {
                if (e.getValue() > 0) {
                    sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                    sep = ", ";
                }
            }
        }
        if (stoppedEarly) {
            sb.append("; stopped on request before the end of the window");
        }
        return sb.toString();
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
