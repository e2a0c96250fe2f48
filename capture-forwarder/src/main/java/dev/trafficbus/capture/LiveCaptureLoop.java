package dev.trafficbus.capture;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.RawPacketListener;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The per-packet work of a live capture, called by libpcap's loop: classify, encode key and value straight
 * from the frame bytes, offer them to the {@link PendingRing}, count. Never waits: a full ring is a drop
 * counted as {@code pending-full}. Every packet takes a sequence number, published or not, so a consumer
 * sees the gap a drop leaves. An exception would be lost inside the native callback: it is kept instead and
 * the loop broken.
 */
final class LiveCaptureLoop implements RawPacketListener {
    private final PcapHandle handle;
    private final PacketClassifier classifier;
    private final CapturePublisher publisher;
    private final PendingRing ring;
    // Written by the capture thread only, read by the status line and the metrics endpoint.
    private final AtomicLong captured = new AtomicLong();
    private final AtomicLong pendingFull = new AtomicLong();
    private final AtomicLongArray skipped = new AtomicLongArray(SkipReason.values().length);
    private volatile RuntimeException failure;

    LiveCaptureLoop(PcapHandle handle, PacketClassifier classifier, CapturePublisher publisher, PendingRing ring) {
        this.handle = handle;
        this.classifier = classifier;
        this.publisher = publisher;
        this.ring = ring;
    }

    @Override
    public void gotPacket(byte[] frame) {
        try {
            captured.lazySet(captured.get() + 1);
            int wireLength = handle.getOriginalLength();
            long micros = PcapImportLoop.micros(handle.getTimestamp());
            SkipReason reason = classifier.classify(frame, frame.length, wireLength);
            if (reason != null) {
                skipped.lazySet(reason.ordinal(), skipped.get(reason.ordinal()) + 1);
                return;
            }
            PacketView view = classifier.view();
            boolean clientToServer = classifier.clientToServer();
            byte[] key = FlowKey.keyBytes(view, clientToServer);
            byte[] value = CapturePublisher.value(micros, clientToServer, view, publisher.nextSequence());
            if (!ring.offer(key, value, micros)) {
                pendingFull.lazySet(pendingFull.get() + 1);
            }
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            }
            try {
                handle.breakLoop();
            } catch (org.pcap4j.core.NotOpenException closed) {
                // Nothing left to stop.
            }
        }
    }

    /** Frames libpcap handed over (after the BPF filter). */
    long captured() {
        return captured.get();
    }

    /** Packets dropped because the pending bound was reached. */
    long droppedPendingFull() {
        return pendingFull.get();
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

    /** An unexpected exception raised while handling a packet, or null. */
    RuntimeException failure() {
        return failure;
    }
}
