package dev.trafficbus.capture;

import dev.trafficbus.capture.live.BulkPacketReader;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The per-packet work of a live capture, called for each frame a {@link BulkPacketReader} read: classify, encode key and packet straight
 * from the frame bytes, offer them to the {@link PendingRing}, count; packets of sessions shed over the CPU budget
 * are dropped as {@code cpu-budget}. Never waits: a full ring is a drop
 * counted as {@code pending-full}. Every packet takes a sequence number, published or not, so a consumer
 * sees the gap a drop leaves.
 */
final class LiveCaptureLoop implements BulkPacketReader.FrameSink {
    private final PacketClassifier classifier;
    private final CapturePublisher publisher;
    private final PendingRing ring;
    private final SessionShedder shedder;
    private final RecordLimit limit;
    private final CapturePublisher.PacketEncoder encoded = new CapturePublisher.PacketEncoder();
    // Written by the capture thread only, read by the status line and the metrics endpoint.
    private final AtomicLong captured = new AtomicLong();
    private final AtomicLong pendingFull = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private final AtomicLong cpuBudget = new AtomicLong();
    private final AtomicLongArray skipped = new AtomicLongArray(SkipReason.values().length);

    LiveCaptureLoop(PacketClassifier classifier, CapturePublisher publisher, PendingRing ring, SessionShedder shedder,
                    RecordLimit limit) {
        this.classifier = classifier;
        this.limit = limit;
        this.publisher = publisher;
        this.ring = ring;
        this.shedder = shedder;
    }

    @Override
    public void frame(byte[] frame, int capturedLength, int wireLength, long micros) {
        captured.lazySet(captured.get() + 1);
        SkipReason reason = classifier.classify(frame, capturedLength, wireLength);
        if (reason == null && !limit.fits(classifier.view().ipLength())) {
            reason = SkipReason.OVERSIZED; // the broker would refuse it, and its batch neighbours with it
        }
        if (reason != null) {
            skipped.lazySet(reason.ordinal(), skipped.get(reason.ordinal()) + 1);
            return;
        }
        PacketView view = classifier.view();
        boolean clientToServer = classifier.clientToServer();
        byte[] key = FlowKey.keyBytes(view, clientToServer);
        if (shedder.shed(key, view.flags(), clientToServer, micros)) {
            publisher.nextSequence(); // the drop leaves its gap in the numbering too
            cpuBudget.lazySet(cpuBudget.get() + 1);
            return;
        }
        int length = encoded.encode(micros, clientToServer, view, publisher.nextSequence());
        if (!ring.offer(key, encoded.bytes(), length, micros, view.flags())) {
            pendingFull.lazySet(pendingFull.get() + 1);
        }
    }

    @Override
    public void unreadable(int count) {
        captured.lazySet(captured.get() + count);
        unreadable.lazySet(unreadable.get() + count);
    }

    /** Packets libpcap delivered that could not be read (counted as captured and dropped). */
    long droppedUnreadable() {
        return unreadable.get();
    }

    /** Frames libpcap handed over (after the BPF filter). */
    long captured() {
        return captured.get();
    }

    /** Packets dropped because the pending bound was reached. */
    long droppedPendingFull() {
        return pendingFull.get();
    }

    /** Packets of sessions shed because the process was over --cpu-budget. */
    long droppedCpuBudget() {
        return cpuBudget.get();
    }

    long skipped(SkipReason reason) {
        return skipped.get(reason.ordinal());
    }

    long skippedTotal() {
        long sum = 0;
        for (int i = 0; i < skipped.length(); i++) {
            sum += skipped.get(i);
        }
        return sum;
    }

}
