package dev.trafficbus.capture;

import dev.trafficbus.capture.live.BulkPacketReader;
import dev.trafficbus.packet.LinkLayer;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;

/**
 * The live libpcap handle of a capture and its ring, resized as {@link RingSizing} says: an idle forwarder keeps a
 * small ring resident, a busy one the whole {@code --buffer-size}. A resize opens a second handle with the new ring
 * and hands over without losing or doubling a packet ({@link RingHandover}). One thread reads; {@link #breakLoop}
 * may come from any.
 */
final class CaptureRing implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureRing.class);
    /** While the old ring is read to its end, a read waits this long for the kernel to retire its last block. */
    private static final int DRAIN_WAIT_MILLIS = 5;

    /**
     * STEADY: one ring. OPENING: a new ring is being opened on a thread of its own; the old ring's packets are
     * remembered. JOINING: the old ring is closed; the new ring's first packets are checked against it.
     */
    private enum Phase { STEADY, OPENING, JOINING }

    private final LiveCaptureRequest request;
    private final String filter;
    private final RingSizing sizing;
    private final LinkLayer linkLayer;
    private final KernelStats kernel;
    private volatile PcapHandle handle;
    private BulkPacketReader reader;
    private volatile int ringBytes;
    private volatile long resizes;
    private volatile boolean stopping;
    private Phase phase = Phase.STEADY;
    private RingHandover handover;
    private BulkPacketReader.FrameSink handoverSink;
    private CompletableFuture<Opened> opening;
    private int openingBytes;
    private long lastKernelDropped;
    private String error;

    private CaptureRing(LiveCaptureRequest request, String filter, RingSizing sizing, PcapHandle handle) {
        this.request = request;
        this.filter = filter;
        this.sizing = sizing;
        this.handle = handle;
        this.linkLayer = InterfaceHandle.linkLayer(handle);
        this.kernel = new KernelStats(handle);
        this.ringBytes = sizing.initialBytes();
        try {
            this.reader = new BulkPacketReader(handle, request.snaplen());
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
    }

    /** Opens {@code request}'s interface with {@code filter} and the ring {@code sizing} starts with. */
    static CaptureRing open(LiveCaptureRequest request, String filter, RingSizing sizing) {
        return new CaptureRing(request, filter, sizing, InterfaceHandle.open(request, filter, sizing.initialBytes()));
    }

    /**
     * Waits for packets (up to the read timeout) and hands each to {@code sink}; returns how many came (0 after a
     * timeout), {@link BulkPacketReader#BROKEN} or {@link BulkPacketReader#FAILED}. A resize opens the new ring on a
     * thread of its own while this one goes on reading, and hands over between reads once it is open.
     */
    int read(BulkPacketReader.FrameSink sink) {
        BulkPacketReader.FrameSink target = phase == Phase.STEADY ? sink : handoverSink;
        long skippedBefore = phase == Phase.JOINING ? handover.skipped() : 0;
        int n = reader.read(target);
        if (phase == Phase.JOINING) {
            kernel.duplicates(handover.skipped() - skippedBefore);
            if (!handover.skipping()) {
                steady();
            }
        }
        if (n == BulkPacketReader.FAILED) {
            error = reader.error();
            return n;
        }
        long kernelDropped = kernel.dropped();
        sizing.observe(Math.max(0, n), kernelDropped != lastKernelDropped, System.nanoTime());
        lastKernelDropped = kernelDropped;
        if (phase == Phase.STEADY && sizing.bytes() != ringBytes && !stopping) {
            // From here on the old ring's packets may be in the new ring too: remember them.
            handover = new RingHandover();
            handoverSink = handover.remembering(sink);
            openingBytes = sizing.bytes();
            opening = startOpening(openingBytes);
            phase = Phase.OPENING;
        }
        if (phase == Phase.OPENING && opening.isDone() && n != BulkPacketReader.BROKEN) {
            Opened next = opening.getNow(null);
            opening = null;
            if (next == null || next.bytes != sizing.bytes()) {
                if (next == null) {
                    sizing.refused(openingBytes, System.nanoTime()); // logged by the opener
                } else {
                    next.close(); // the traffic changed its mind while the ring opened
                }
                steady();
                return n;
            }
            return handOver(next, sink, n);
        }
        return n;
    }

    /** A new handle, activated and filtered, with its reader. */
    private record Opened(PcapHandle handle, BulkPacketReader reader, int bytes, long startNanos, long readyNanos) {
        void close() {
            reader.close();
            handle.close();
        }
    }

    private CompletableFuture<Opened> startOpening(int bytes) {
        long start = System.nanoTime();
        CompletableFuture<Opened> future = new CompletableFuture<>();
        Thread opener = new Thread(() -> {
            PcapHandle next = null;
            try {
                next = InterfaceHandle.open(request, filter, bytes);
                future.complete(new Opened(next, new BulkPacketReader(next, request.snaplen()), bytes, start,
                        System.nanoTime()));
            } catch (RuntimeException e) {
                if (next != null) {
                    next.close();
                }
                LOG.warn("capture ring of {} on {} not opened, keeping {}: {}", ByteSize.format(bytes),
                        request.interfaceName(), ByteSize.format(ringBytes), e.getMessage());
                future.complete(null); // the reading thread tells the sizing
            }
        }, "trafficbus-capture-ring");
        opener.setDaemon(true);
        opener.start();
        return future;
    }

    /** Back to one ring, whatever came of a resize. */
    private void steady() {
        phase = Phase.STEADY;
        handover = null;
        handoverSink = null;
    }

    /**
     * Stops the old ring taking packets, reads it to its end, closes it and reads the new one from here on. Returns
     * what {@link #read} returns.
     */
    private int handOver(Opened next, BulkPacketReader.FrameSink sink, int n) {
        try {
            reader.stopIntake();
        } catch (RuntimeException e) {
            next.close();
            steady();
            LOG.warn("capture ring on {} not handed over, keeping {}: {}", request.interfaceName(),
                    ByteSize.format(ringBytes), e.getMessage());
            sizing.refused(next.bytes, System.nanoTime());
            return n;
        }
        long stopped = System.nanoTime();
        handover.intakeStopped(stopped);
        int total = n;
        long drained = 0;
        while (true) {
            int got = reader.read(handoverSink, DRAIN_WAIT_MILLIS);
            if (got == BulkPacketReader.FAILED || got == BulkPacketReader.BROKEN || stopping) {
                next.close(); // the old ring ended or a stop came: the new one is not needed
                steady();
                if (got == BulkPacketReader.FAILED) {
                    error = reader.error();
                    return got;
                }
                return BulkPacketReader.BROKEN;
            }
            drained += got;
            total += got;
            if (handover.drained(got, System.nanoTime())) {
                break;
            }
        }
        kernel.replace(next.handle);
        reader.close();
        handle.close();
        reader = next.reader;
        handle = next.handle;
        phase = Phase.JOINING;
        handoverSink = handover.joining(sink);
        int from = ringBytes;
        ringBytes = next.bytes;
        resizes++;
        if (handover.unremembered() > 0) {
            LOG.warn("capture ring handover on {} gave {} packets past what it remembers: the new ring may give"
                    + " some of them again", request.interfaceName(), handover.unremembered());
        }
        LOG.info("capture ring on {} {} from {} to {} ({}): opened in {} ms, the old ring read to its end in {} ms"
                        + " ({} packets)", request.interfaceName(), next.bytes > from ? "grown" : "shrunk",
                ByteSize.format(from), ByteSize.format(next.bytes), next.bytes > from ? "traffic came"
                        : "quiet for " + sizing.quietAfter().toSeconds() + " s",
                (next.readyNanos - next.startNanos) / 1_000_000, (System.nanoTime() - stopped) / 1_000_000, drained);
        return total;
    }

    /** libpcap's message after {@link BulkPacketReader#FAILED}. */
    String error() {
        return error;
    }

    /** Ends a read early, also one of a handover; safe from any thread. */
    void breakLoop() {
        stopping = true;
        try {
            handle.breakLoop();
        } catch (NotOpenException e) {
            // Replaced or closed: the read loop sees the flag.
        }
    }

    LinkLayer linkLayer() {
        return linkLayer;
    }

    KernelStats kernel() {
        return kernel;
    }

    /** The ring's size now. */
    int ringBytes() {
        return ringBytes;
    }

    /** How often the ring was resized. */
    long resizes() {
        return resizes;
    }

    /** Closes the reader and the handle. */
    @Override
    public void close() {
        stopping = true;
        if (opening != null) {
            opening.thenAccept(next -> {
                if (next != null) {
                    next.close();
                }
            });
        }
        reader.close();
        handle.close();
    }
}
