package dev.trafficbus.replay.tcp;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.intake.CaptureRecordReader;
import dev.trafficbus.session.CapturedSession;
import dev.trafficbus.session.SessionTable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The tcp engine's consumer thread: polls the topic, decodes every packet of each record in place and feeds
 * the captured sessions, one session table per amplification copy ({@code tb.copy}) so every copy is its own
 * session. Remembers the options of each captured SYN for the replayed one. Pauses while too many captured bytes wait.
 * Offsets are committed for records consumed (at-most-once delivery to the target, like the socket engine).
 */
final class TcpCaptureFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpCaptureFeed.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long COMMIT_EVERY_NANOS = 5_000_000_000L;
    private static final long SWEEP_EVERY_NANOS = 200_000_000L;
    // Until the end nothing is flushed or ended by idleness, so sweeps only forget tombstones: rarely is enough.
    private static final long SWEEP_UNTIL_END_EVERY_NANOS = 2_000_000_000L;
    private static final long FORGET_CLOSED_NANOS = 10_000_000_000L;

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private final TcpEngine engine;
    private final TcpCounters counters;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<Integer, SessionTable> tables = new HashMap<>();
    private final CaptureRecordReader in = new CaptureRecordReader();
    private final Map<TopicPartition, Long> endOffsets = new HashMap<>();
    private volatile boolean stopping;
    private boolean assignedOnce;
    private boolean paused;

    TcpCaptureFeed(ReplayRequest request, ReplayTuning tuning, TcpEngine engine, TcpCounters counters) {
        this.request = request;
        this.tuning = tuning;
        this.engine = engine;
        this.counters = counters;
        Properties p = new Properties();
        p.putAll(request.consumerConfig());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, request.groupOrDefault());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "trafficbus-replay-tcp");
        p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(p);
    }

    /** Checks that the topic exists, waiting at most {@code wait} for the broker. */
    void checkTopic(Duration wait) {
        List<org.apache.kafka.common.PartitionInfo> parts;
        try {
            parts = consumer.partitionsFor(request.topic(), wait);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new dev.trafficbus.cli.UserInputException("cannot reach Kafka at "
                    + request.consumerConfig().get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) + " within "
                    + wait.toSeconds() + " s", e);
        } catch (KafkaException e) {
            throw new dev.trafficbus.cli.UserInputException("cannot read topic " + request.topic() + ": " + e.getMessage(), e);
        }
        if (parts == null || parts.isEmpty()) {
            throw new dev.trafficbus.cli.UserInputException("topic " + request.topic() + " does not exist");
        }
    }

    /** Asks {@link #run} to return soon (any thread). */
    void stop() {
        stopping = true;
        consumer.wakeup();
    }

    /** Consumes until stop(), or with until-end until the end offsets seen at assignment; then ends all sessions. */
    void run(Runnable tick) {
        consumer.subscribe(List.of(request.topic()), new Rebalance());
        long lastCommit = System.nanoTime();
        long lastSweep = lastCommit;
        long sweepEvery = request.untilEnd() ? SWEEP_UNTIL_END_EVERY_NANOS : SWEEP_EVERY_NANOS;
        try {
            while (!stopping) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    handle(r);
                }
                engine.batch.flush();
                long now = System.nanoTime();
                flowControl();
                if (now - lastSweep >= sweepEvery) {
                    lastSweep = now;
                    sweep(now);
                    engine.batch.flush();
                }
                if (now - lastCommit >= COMMIT_EVERY_NANOS) {
                    lastCommit = now;
                    consumer.commitAsync();
                }
                tick.run();
                if (request.untilEnd() && assignedOnce && reachedEnd()) {
                    break;
                }
            }
        } catch (WakeupException e) {
            // stop() was called
        }
        for (SessionTable t : tables.values()) {
            t.finishAll();
        }
        engine.batch.flush();
        commitConsumed();
    }

    private void handle(ConsumerRecord<byte[], byte[]> r) {
        int copy = in.open(r, counters);
        if (copy < 0) {
            return;
        }
        SessionTable table = tables.computeIfAbsent(copy, c -> new SessionTable(engine, CapturedSession.DEFAULT_MAX_BUFFERED));
        do {
            String skip = in.wrap();
            if (skip != null) {
                counters.skipPackets(skip, 1);
                continue;
            }
            PacketView view = in.view();
            long ts = in.timestampMicros();
            engine.anchor(ts, System.nanoTime());
            boolean clientToServer = in.clientToServer();
            boolean clientSyn = clientToServer && view.hasFlag(PacketView.SYN) && !view.hasFlag(PacketView.ACK);
            engine.nextPacket(clientSyn ? SynOptions.of(view) : SynOptions.FABRICATED, copy);
            FlowKey key = FlowKey.of(view, clientToServer);
            SessionTable.Outcome o = table.accept(key, r.partition(), clientToServer, view, ts, System.nanoTime());
            if (o == SessionTable.Outcome.DATA_AFTER_CLOSE) {
                counters.skipPackets("data-after-close", 1);
            }
        } while (in.advance());
    }

    private void flowControl() {
        long pending = engine.pendingBytes.get();
        // Every slot held by a session waiting for its next captured message while others queue: the queued
        // bytes can only drain after more input, so a pause would never end.
        boolean stuck = engine.starvedSlots.get() >= tuning.maxConnections() && engine.waitingSessions() > 0;
        if (!paused && pending > tuning.maxBufferedBytes() && !stuck) {
            paused = true;
        } else if (paused && (pending <= tuning.maxBufferedBytes() / 2 || stuck)) {
            paused = false;
            consumer.resume(consumer.paused());
        }
        if (paused) {
            consumer.pause(consumer.assignment());
        }
    }

    private void sweep(long now) {
        long flush = request.untilEnd() || paused ? 0 : tuning.idleFlush().toNanos();
        long end = request.untilEnd() || paused ? 0 : tuning.idleEnd().toNanos();
        for (SessionTable t : tables.values()) {
            t.sweep(now, flush, end, FORGET_CLOSED_NANOS);
        }
    }

    private boolean reachedEnd() {
        for (TopicPartition tp : consumer.assignment()) {
            Long end = endOffsets.get(tp);
            if (end == null || consumer.position(tp) < end) {
                return false;
            }
        }
        return true;
    }

    private void commitConsumed() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                consumer.commitSync(Duration.ofSeconds(5));
                return;
            } catch (WakeupException e) {
                // a stop() after the last poll leaves its wake-up pending: it fires here once
            } catch (KafkaException e) {
                log.warn("could not commit the consumed offsets of {}: {}", request.topic(), e.getMessage());
                return;
            }
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assignedOnce = true;
            if (!partitions.isEmpty()) {
                endOffsets.putAll(consumer.endOffsets(partitions));
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            release(partitions);
            try {
                consumer.commitSync(Duration.ofSeconds(5));
            } catch (KafkaException e) {
                log.warn("could not commit before giving up {}: {}", partitions, e.getMessage());
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            release(partitions);
        }

        private void release(Collection<TopicPartition> partitions) {
            Set<Integer> numbers = new HashSet<>();
            for (TopicPartition tp : partitions) {
                numbers.add(tp.partition());
                endOffsets.remove(tp);
            }
            for (SessionTable t : tables.values()) {
                t.finishPartitions(numbers::contains);
            }
            engine.batch.flush();
        }
    }
}
