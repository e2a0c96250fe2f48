package dev.trafficbus.intercept;

import dev.trafficbus.intercept.frame.FrameWriter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay side of one authenticated replayer connection: packets for it are batched into PACKETS frames and
 * handed to its channel. At most {@code maxQueue} packets wait (in the open batch plus written but not yet on the
 * wire); more are dropped and counted as queue-full, so a slow replayer cannot make intercept grow without bound.
 * Batching methods are called by one thread at a time (the router's lock); completion callbacks come from Netty.
 */
final class ClientLink {
    /** Size of a batch buffer; a frame is sent when the next packet no longer fits. */
    static final int BATCH_BYTES = 64 * 1024;
    /** Bytes that may wait per connection whatever the packet count, since packets with payload can be large. */
    static final long MAX_QUEUE_BYTES = 64L << 20;

    private final Channel channel;
    private final String name;
    private final int maxQueue;
    private final InterceptCounters counters;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong inFlightBytes = new AtomicLong();

    private ByteBuf batch;
    private ByteBuffer batchView;
    private int batchStart;
    private int batchCount;

    ClientLink(Channel channel, String name, int maxQueue, InterceptCounters counters) {
        this.channel = channel;
        this.name = name;
        this.maxQueue = maxQueue;
        this.counters = counters;
    }

    /** Adds one packet to the open batch, sending the batch first when the packet does not fit. */
    void offer(byte[] bytes, int off, int len) {
        if (inFlight.get() + batchCount >= maxQueue
                || inFlightBytes.get() + (batch == null ? 0 : batchView.position()) + len > MAX_QUEUE_BYTES) {
            counters.countDropped(DropReason.QUEUE_FULL);
            return;
        }
        if (batch != null && !FrameWriter.packetFits(batchView, batchStart, batchCount, len)) {
            flush();
        }
        if (batch == null) {
            open(Math.max(BATCH_BYTES, FrameWriter.PACKETS_HEADER + 2 + len));
        }
        FrameWriter.addPacket(batchView, bytes, off, len);
        batchCount++;
    }

    private void open(int capacity) {
        batch = channel.alloc().buffer(capacity, capacity);
        batchView = batch.nioBuffer(0, capacity);
        batchStart = FrameWriter.beginPackets(batchView);
        batchCount = 0;
    }

    /** Sends the open batch, if any. */
    void flush() {
        if (batch == null) {
            return;
        }
        ByteBuf frame = batch;
        int count = batchCount;
        FrameWriter.endPackets(batchView, batchStart, count);
        frame.writerIndex(batchView.position());
        batch = null;
        batchView = null;
        batchCount = 0;
        if (count == 0) {
            frame.release();
            return;
        }
        if (frame.readableBytes() < frame.capacity() / 2) {
            // A slow replayer may have many frames waiting: each must hold only its own bytes, not a 64 KiB buffer.
            ByteBuf exact = channel.alloc().buffer(frame.readableBytes(), frame.readableBytes());
            exact.writeBytes(frame);
            frame.release();
            frame = exact;
        }
        int bytes = frame.readableBytes();
        inFlight.addAndGet(count);
        inFlightBytes.addAndGet(bytes);
        channel.writeAndFlush(frame).addListener(f -> {
            // Counted before they leave the queue, so captured = relayed + dropped + held + queued never comes up short.
            if (f.isSuccess()) {
                counters.countRelayed(count);
            } else {
                counters.countDropped(DropReason.CLIENT_GONE, count);
            }
            inFlight.addAndGet(-count);
            inFlightBytes.addAndGet(-bytes);
        });
    }

    /** Packets waiting: in the open batch plus written to the channel but not yet on the wire. */
    int queued() {
        return inFlight.get() + batchCount;
    }

    boolean isOpen() {
        return channel.isActive();
    }

    /** The name the replayer gave in its HELLO. */
    String name() {
        return name;
    }

    Channel channel() {
        return channel;
    }

    @Override
    public String toString() {
        return name + "@" + channel.remoteAddress();
    }
}
