package dev.trafficbus.capture;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The live forwarder's resident memory: the bound known at start, and the resident set now. The bound is
 * {@code --max-pending} (the pending ring, off the heap) + {@code --buffer-size} (libpcap's capture ring, mapped
 * into the process) + the heap's maximum (-Xmx) + what the JVM holds outside the heap.
 */
final class ResidentMemory {
    /**
     * The JVM outside the heap, measured with a margin (JDK 17, started by bin/trafficbus, the heap counted full and
     * the capture ring apart): its code and shared class archive, class metadata, compiled code, thread stacks and
     * the C heap. Idle about 64 MB, with the broker down and the backlog full up to 78 MB; but while C2 compiles
     * Kafka's producer under load its arenas take 25-45 MB more for moments (peak VmHWM at 100,000 packets/s with
     * --max-pending 8MB: up to 110 MB here, against 66 MB with C1 only), trimmed back within seconds. The bound
     * holds the peak. The launcher caps the growing parts
     * (MaxMetaspaceSize, ReservedCodeCacheSize, MaxDirectMemorySize, MALLOC_ARENA_MAX).
     */
    static final long JVM_NATIVE_BYTES = 128L << 20;

    /** The parts of the bound, in bytes. */
    record Bound(long pending, long captureBuffer, long heap, long jvm) {
        long total() {
            return pending + captureBuffer + heap + jvm;
        }

        /** For the start-up line: the total and its parts. */
        String describe() {
            return String.format(Locale.ROOT, "resident memory at most %s (--max-pending %s + --buffer-size %s + heap %s"
                            + " + JVM %s)", mb(total()), mb(pending), mb(captureBuffer), mb(heap), mb(jvm));
        }

        private static String mb(long bytes) {
            return (bytes + (1 << 20) - 1 >> 20) + " MB";
        }
    }

    private ResidentMemory() {
    }

    static Bound bound(long maxPendingBytes, long captureBufferBytes) {
        return new Bound(maxPendingBytes, captureBufferBytes, maxHeapBytes(), JVM_NATIVE_BYTES);
    }

    private static long maxHeapBytes() {
        try {
            return Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("MaxHeapSize").getValue());
        } catch (RuntimeException e) {
            return Runtime.getRuntime().maxMemory();
        }
    }

    /** VmRSS of this process from /proc/self/status, in bytes; -1 where there is none (not Linux). */
    static long residentBytes() {
        return residentBytes(Path.of("/proc/self/status"));
    }

    /** VmRSS from a /proc/PID/status file, in bytes; -1 where there is none. */
    static long residentBytes(Path status) {
        return statusBytes(status, "VmRSS:");
    }

    /** The largest resident set this process has had (VmHWM), in bytes; -1 where there is none. */
    static long peakResidentBytes() {
        return peakResidentBytes(Path.of("/proc/self/status"));
    }

    /** VmHWM from a /proc/PID/status file, in bytes; -1 where there is none. */
    static long peakResidentBytes(Path status) {
        return statusBytes(status, "VmHWM:");
    }

    private static long statusBytes(Path status, String field) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).replace("kB", "").strip()) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or a format this does not know: no figure rather than a wrong one
        }
        return -1;
    }
}
