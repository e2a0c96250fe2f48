package dev.trafficbus.capture;

import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Moves records (each with its packet count) from the reading thread to one sending thread in pooled batches, so that reading the
 * capture and the producer's compression (which runs inside {@code send}) use two cores. Records keep
 * their order. {@link #put} blocks while every batch is in use: a file import slows down to what Kafka
 * takes instead of buffering without bound.
 */
final class SendPipeline implements AutoCloseable {
    private static final int BATCH_RECORDS = 1024;
    private static final int BATCHES = 8;

    /** A reusable array of records and how many of them are filled. */
    private static final class Batch {
        @SuppressWarnings("unchecked")
        final ProducerRecord<byte[], byte[]>[] records = new ProducerRecord[BATCH_RECORDS];
        final int[] packets = new int[BATCH_RECORDS];
        int size;
    }

    private static final Batch END = new Batch();

    private final CapturePublisher publisher;
    private final BlockingQueue<Batch> free = new ArrayBlockingQueue<>(BATCHES);
    private final BlockingQueue<Batch> full = new ArrayBlockingQueue<>(BATCHES + 1);
    private final Thread sender;
    private Batch current;
    private volatile boolean refused;
    private volatile RuntimeException senderFailure;
    private boolean finished;

    SendPipeline(CapturePublisher publisher, String threadName) {
        this.publisher = publisher;
        for (int i = 0; i < BATCHES; i++) {
            free.add(new Batch());
        }
        sender = new Thread(this::sendLoop, threadName);
        sender.setDaemon(true);
        sender.start();
    }

    /**
     * Queues one record of {@code packets} packets; returns false once the producer has refused a record (then
     * this one is counted as failed and the caller should stop).
     */
    boolean put(ProducerRecord<byte[], byte[]> record, int packets) throws InterruptedException {
        if (refused()) {
            publisher.countUnsent(packets);
            return false;
        }
        if (current == null) {
            current = free.take();
        }
        current.packets[current.size] = packets;
        current.records[current.size++] = record;
        if (current.size == BATCH_RECORDS) {
            full.put(current);
            current = null;
        }
        return true;
    }

    /** Hands over what is queued and waits until the sending thread has passed every record to the producer. */
    void finish() throws InterruptedException {
        if (finished) {
            return;
        }
        finished = true;
        if (current != null && current.size > 0) {
            full.put(current);
            current = null;
        }
        full.put(END);
        sender.join();
        if (senderFailure != null) {
            throw senderFailure;
        }
    }

    /** True when the producer refused a record, at once or by timing out, e.g. because no broker answered. */
    boolean refused() {
        return refused || publisher.brokerUnavailable();
    }

    private void sendLoop() {
        try {
            while (true) {
                Batch b = full.take();
                if (b == END) {
                    return;
                }
                for (int i = 0; i < b.size; i++) {
                    send(b.records[i], b.packets[i]);
                    b.records[i] = null;
                }
                b.size = 0;
                free.put(b);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(ProducerRecord<byte[], byte[]> record, int packets) {
        // After a refusal the rest is counted as failed, without waiting max.block.ms for each record; the
        // thread keeps draining so the reading side never waits for a batch that does not come back.
        if (refused()) {
            publisher.countUnsent(packets);
            return;
        }
        try {
            if (!publisher.send(record, packets)) {
                refused = true;
            }
        } catch (RuntimeException e) {
            publisher.countUnsent(packets);
            senderFailure = e;
            refused = true;
        }
    }

    /** Stops the sending thread if {@link #finish} was not reached (an error on the reading side). */
    @Override
    public void close() {
        if (!finished) {
            sender.interrupt();
            try {
                sender.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
