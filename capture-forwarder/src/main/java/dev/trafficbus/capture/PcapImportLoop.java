package dev.trafficbus.capture;

import dev.trafficbus.capture.file.CaptureFile;
import dev.trafficbus.capture.file.CaptureFileException;
import dev.trafficbus.capture.file.CapturedFrame;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.Encapsulation;
import dev.trafficbus.packet.LinkLayer;
import dev.trafficbus.packet.PacketView;

import java.time.Duration;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The read of a pcap import: walks the file ({@link CaptureFile}, no libpcap), and per packet classifies it, groups
 * it into records per flow ({@link FlowBatcher}, window in capture time) or counts the skip, and keeps the progress
 * line. {@link #flushBatches} after the read publishes what is still batched.
 */
final class PcapImportLoop implements FlowBatcher.Sink {
    private static final int PROGRESS_EVERY = 4096;

    private final CaptureFile file;
    private final PacketClassifier classifier;
    private final CapturePublisher publisher;
    private final SendPipeline pipeline;
    private final FlowBatcher batcher;
    private final ProgressDisplay progress;
    private final long fileSize;
    private final long startNanos;
    private final BooleanSupplier stopRequested;
    private final TimestampWindow timestamps;
    private final RecordLimit limit;
    private final CapturePublisher.PacketEncoder encoded = new CapturePublisher.PacketEncoder();
    private final long[] skipped = new long[SkipReason.values().length];
    private final long[] decapsulated = new long[Encapsulation.values().length];
    private long packetsRead;
    private CaptureFileException fileProblem;
    private String stoppedBecause;
    private boolean stoppedOnRequest;

    PcapImportLoop(CaptureFile file, PacketClassifier classifier, CapturePublisher publisher, SendPipeline pipeline,
                   Duration batchWindow, int batchMaxPackets, ProgressDisplay progress, long fileSize,
                   long startNanos, BooleanSupplier stopRequested, TimestampWindow timestamps, RecordLimit limit) {
        this.file = file;
        this.classifier = classifier;
        this.publisher = publisher;
        this.pipeline = pipeline;
        this.batcher = new FlowBatcher(batchWindow, batchMaxPackets, limit.maxValueBytes(), this);
        this.progress = progress;
        this.fileSize = fileSize;
        this.startNanos = startNanos;
        this.stopRequested = stopRequested;
        this.timestamps = timestamps;
        this.limit = limit;
    }

    /**
     * Reads to the end of the file, or until a stop is asked for, Kafka refuses records, or the file turns out
     * truncated or damaged ({@link #fileProblem()}); what was read before any of these is published or counted.
     */
    void run() {
        try {
            while (!stopRequested.getAsBoolean()) {
                if (!file.next()) {
                    return;
                }
                packetsRead++;
                if (!handle(file.frame())) {
                    return;
                }
                if (progress.enabled() && packetsRead % PROGRESS_EVERY == 0) {
                    showProgress();
                }
            }
            // The next packet is not read: it is neither published nor counted, like the rest of the file.
            stoppedOnRequest = true;
        } catch (CaptureFileException e) {
            if (e.problem() != CaptureFileException.Problem.TRUNCATED && e.problem() != CaptureFileException.Problem.DAMAGED) {
                throw e;
            }
            fileProblem = e;
        }
    }

    /** One packet; false when publishing failed and the read must stop. */
    private boolean handle(CapturedFrame frame) {
        long micros = frame.micros();
        LinkLayer layer = frame.linkLayer();
        // A time before 1970 or a fraction past a second comes from a corrupt record header, and Kafka refuses
        // negative record times: the packet cannot be trusted, so it is skipped as malformed. A time the topic
        // refuses would fail its whole batch at the broker, so it is counted before it is batched; so is a packet
        // larger than the topic takes.
        SkipReason reason = layer == null ? SkipReason.LINK_TYPE
                : micros < 0 ? SkipReason.MALFORMED
                : classifier.classify(layer, frame.bytes(), frame.capturedLength(), frame.wireLength());
        if (reason == null && !timestamps.accepts(micros, System.currentTimeMillis())) {
            reason = SkipReason.TIMESTAMP_OUT_OF_RANGE;
        }
        if (reason == null && !limit.fits(classifier.view().ipLength())) {
            reason = SkipReason.OVERSIZED;
        }
        if (reason != null) {
            skipped[reason.ordinal()]++;
            return true;
        }
        if (classifier.encapsulation() != null) {
            decapsulated[classifier.encapsulation().ordinal()]++;
        }
        PacketView view = classifier.view();
        boolean clientToServer = classifier.clientToServer();
        batcher.advanceTo(micros);
        byte[] key = FlowKey.keyBytes(view, clientToServer);
        int length = encoded.encode(micros, clientToServer, view, publisher.nextSequence());
        batcher.add(key, key.length, encoded.bytes(), length, view.flags(), micros, 0);
        if (pipeline.refused()) {
            stoppedBecause = publisher.firstError() != null ? publisher.firstError() : "the sending thread failed";
            return false;
        }
        return true;
    }

    @Override
    public void emit(byte[] key, byte[] value, long firstMicros, int packets, long pendingBytes) {
        try {
            // A refused record is counted as failed by the pipeline; gotPacket then stops the read.
            pipeline.put(publisher.record(key, value, firstMicros), packets);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("pcap import interrupted", e);
        }
    }

    /** After the read (to the end, or stopped): publishes every record still open, or counts it as failed. */
    void flushBatches() {
        batcher.flushAll();
    }

    private void showProgress() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long bytesRead = file.position();
        double rate = seconds > 0 ? bytesRead / seconds : 0;
        double eta = fileSize > 0 && rate > 0 ? (fileSize - bytesRead) / rate : Double.NaN;
        progress.update(bytesRead, fileSize, String.format(Locale.ROOT, "%,d packets  %.1f MB/s  ETA %s",
                packetsRead, rate / 1e6, ProgressDisplay.eta(eta)));
    }

    long packetsRead() {
        return packetsRead;
    }

    long skipped(SkipReason reason) {
        return skipped[reason.ordinal()];
    }

    /** Accepted packets read from inside a tunnel of outermost kind {@code kind}. */
    long decapsulated(Encapsulation kind) {
        return decapsulated[kind.ordinal()];
    }

    /** Where the file stopped making sense (truncated or damaged), or null when it was read to its end. */
    CaptureFileException fileProblem() {
        return fileProblem;
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
