package dev.trafficbus.capture;

import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.RawPacketListener;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The per-packet work of a pcap import, called by libpcap's loop: classify, group into records per flow
 * ({@link FlowBatcher}, window in capture time) or count the skip, keep the progress line.
 * {@link #flushBatches} after the loop publishes what is still batched. Runs on the thread that called {@code loop}; an exception here would be lost
 * inside the native callback, so it is kept and the loop is broken instead.
 */
final class PcapImportLoop implements RawPacketListener, FlowBatcher.Sink {
    private static final int PCAP_FILE_HEADER = 24;
    private static final int PCAP_RECORD_HEADER = 16;
    private static final int PROGRESS_EVERY = 4096;

    private final PcapHandle handle;
    private final PacketClassifier classifier;
    private final CapturePublisher publisher;
    private final SendPipeline pipeline;
    private final FlowBatcher batcher;
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
                   Duration batchWindow, int batchMaxPackets, ProgressDisplay progress, long fileSize,
                   long startNanos, BooleanSupplier stopRequested) {
        this.handle = handle;
        this.classifier = classifier;
        this.publisher = publisher;
        this.pipeline = pipeline;
        this.batcher = new FlowBatcher(batchWindow, batchMaxPackets, this);
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
            } else {
                PacketView view = classifier.view();
                boolean clientToServer = classifier.clientToServer();
                batcher.advanceTo(micros);
                batcher.add(FlowKey.keyBytes(view, clientToServer),
                        CapturePublisher.encodePacket(micros, clientToServer, view, publisher.nextSequence()),
                        view.flags(), micros, 0);
                if (pipeline.refused()) {
                    stoppedBecause = publisher.firstError() != null ? publisher.firstError() : "the sending thread failed";
                    handle.breakLoop();
                    return;
                }
            }
            if (progress.enabled() && packetsRead % PROGRESS_EVERY == 0) {
                showProgress();
            }
        } catch (RuntimeException e) {
            failure = e;
            breakQuietly();
        } catch (NotOpenException e) {
            failure = new IllegalStateException("pcap handle closed while reading", e);
        }
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
