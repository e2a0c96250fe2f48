package dev.trafficbus.capture;

import dev.trafficbus.cli.ProgressDisplay;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.RawPacketListener;

import java.sql.Timestamp;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The per-packet work of a pcap import, called by libpcap's loop: classify, publish or count the skip,
 * keep the progress line. Runs on the thread that called {@code loop}; an exception here would be lost
 * inside the native callback, so it is kept and the loop is broken instead.
 */
final class PcapImportLoop implements RawPacketListener {
    private static final int PCAP_FILE_HEADER = 24;
    private static final int PCAP_RECORD_HEADER = 16;
    private static final int PROGRESS_EVERY = 4096;

    private final PcapHandle handle;
    private final PacketClassifier classifier;
    private final CapturePublisher publisher;
    private final SendPipeline pipeline;
    private final ProgressDisplay progress;
    private final long fileSize;
    private final long startNanos;
    private final BooleanSupplier stopRequested;
    private final long[] skipped = new long[SkipReason.values().length];
    private long packetsRead;
    private long bytesRead = PCAP_FILE_HEADER;
    private RuntimeException failure;
    private String stoppedBecause;
    private boolean stoppedOnRequest;

    PcapImportLoop(PcapHandle handle, PacketClassifier classifier, CapturePublisher publisher, SendPipeline pipeline,
                   ProgressDisplay progress, long fileSize, long startNanos, BooleanSupplier stopRequested) {
        this.handle = handle;
        this.classifier = classifier;
        this.publisher = publisher;
        this.pipeline = pipeline;
        this.progress = progress;
        this.fileSize = fileSize;
        this.startNanos = startNanos;
        this.stopRequested = stopRequested;
    }

    @Override
    public void gotPacket(byte[] frame) {
        try {
            if (stopRequested.getAsBoolean()) {
                // This packet is not read: it is neither published nor counted, like the rest of the file.
                stoppedOnRequest = true;
                handle.breakLoop();
                return;
            }
            packetsRead++;
            bytesRead += frame.length + PCAP_RECORD_HEADER;
            int wireLength = handle.getOriginalLength();
            long micros = micros(handle.getTimestamp());
            // A time before 1970 comes from a corrupt record header (pcap seconds are signed 32-bit), and Kafka
            // refuses negative record times: the packet cannot be trusted, so it is skipped as malformed.
            SkipReason reason = micros < 0 ? SkipReason.MALFORMED : classifier.classify(frame, frame.length, wireLength);
            if (reason != null) {
                skipped[reason.ordinal()]++;
            } else if (!pipeline.put(publisher.record(micros, classifier.clientToServer(), classifier.view()))) {
                stoppedBecause = publisher.firstError() != null ? publisher.firstError() : "the sending thread failed";
                handle.breakLoop();
                return;
            }
            if (progress.enabled() && packetsRead % PROGRESS_EVERY == 0) {
                showProgress();
            }
        } catch (RuntimeException e) {
            failure = e;
            breakQuietly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new IllegalStateException("pcap import interrupted", e);
            breakQuietly();
        } catch (NotOpenException e) {
            failure = new IllegalStateException("pcap handle closed while reading", e);
        }
    }

    /**
     * A record libpcap read but pcap4j could not hand over (it throws building the timestamp of a record whose
     * microseconds field is out of range, inside the native callback): counted as read and malformed.
     */
    void countUndeliverableRecord() {
        packetsRead++;
        skipped[SkipReason.MALFORMED.ordinal()]++;
    }

    private void showProgress() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = seconds > 0 ? bytesRead / seconds : 0;
        double eta = fileSize > 0 && rate > 0 ? (fileSize - bytesRead) / rate : Double.NaN;
        progress.update(bytesRead, fileSize, String.format(Locale.ROOT, "%,d packets  %.1f MB/s  ETA %s",
                packetsRead, rate / 1e6, ProgressDisplay.eta(eta)));
    }

    private void breakQuietly() {
        try {
            handle.breakLoop();
        } catch (NotOpenException e) {
            // Nothing left to stop.
        }
    }

    /** Capture time in microseconds; Timestamp keeps whole milliseconds in getTime() and the full fraction in getNanos(). */
    static long micros(Timestamp ts) {
        return Math.floorDiv(ts.getTime(), 1000L) * 1_000_000L + ts.getNanos() / 1000;
    }

    long packetsRead() {
        return packetsRead;
    }

    long skipped(SkipReason reason) {
        return skipped[reason.ordinal()];
    }

    /** An unexpected exception raised while handling a packet, or null. */
    RuntimeException failure() {
        return failure;
    }

    /** True when the read stopped early because a stop was asked for (SIGINT/SIGTERM). */
    boolean stoppedOnRequest() {
        return stoppedOnRequest;
    }

    /** Why publishing stopped the read early, or null. */
    String stoppedBecause() {
        return stoppedBecause;
    }
}
