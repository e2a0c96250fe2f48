package dev.trafficbus.replay;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The one consumer thread: polls the topic, decodes each record's packet in place, and feeds the captured
 * sessions, which hand complete messages to the engine. Pauses the topic while too many captured bytes
 * wait to be sent. Offsets are committed for records consumed (every few seconds and at the end), not for
 * sessions replayed: a crash can lose the sessions in flight, so delivery to the target is at-most-once.
 */
final class CaptureConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CaptureConsumer.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long COMMIT_EVERY_NANOS = 5_000_000_000L;
    private static final long SWEEP_EVERY_NANOS = 200_000_000L;
    private static final long FORGET_CLOSED_NANOS = 10_000_000_000L;
    private static final long WARM_UP_NANOS = 3_000_000_000L;
    private static final int WARM_UP_MAX_RECORDS = 100_000;

    private final ReplayRequest request;
    private final ReplayTuning tuning;
    private final ReplayEngine engine;
    private final ReplayCounters counters;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SessionTable table;
    private final PacketView view = new PacketView();
    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final Map<TopicPartition, Long> endOffsets = new HashMap<>();
    private final Map<TopicPartition, Long> startOffsets = new HashMap<>();
    private volatile boolean stopping;
    private volatile double consumedFraction = -1;
    private boolean assignedOnce;
    private boolean paused;
    private long pausedSince;
    private long pausedTotal;

    CaptureConsumer(ReplayRequest request, ReplayTuning tuning, ReplayEngine engine, ReplayCounters counters) {
        this.request = request;
        this.tuning = tuning;
        this.engine = engine;
        this.counters = counters;
        this.table = new SessionTable(engine, CapturedSession.DEFAULT_MAX_BUFFERED);
        Properties p = new Properties();
        p.putAll(request.consumerConfig());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, request.groupOrDefault());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "trafficbus-replay");
        p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(p);
    }

    /** Asks {@link #run()} to return soon (any thread). */
    void stop() {
        stopping = true;
        consumer.wakeup();
    }

    /** Share of the records present at assignment consumed so far (until-end), or -1 when unknown. */
    double consumedFraction() {
        return consumedFraction;
    }

    /**
     * Consumes until {@link #stop()}, or with until-end until every assigned partition reached the end offset
     * it had when assigned. Then ends every captured session still open and commits. {@code tick} runs
     * after every poll.
     */
    void run(Runnable tick) {
        consumer.subscribe(List.of(request.topic()), new Rebalance());
        long now = System.nanoTime();
        long lastCommit = now;
        long lastSweep = now;
        try {
            if (!engine.clock.isMax()) {
                anchorOnEarliestPartition();
            }
            while (!stopping) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    handle(r);
                }
                engine.mailbox.flush();
                now = System.nanoTime();
                flowControl(now);
                if (now - lastSweep >= SWEEP_EVERY_NANOS) {
                    lastSweep = now;
                    sweep(now);
                    engine.mailbox.flush();
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
        table.finishAll();
        engine.mailbox.flush();
        commitConsumed();
    }

    /**
     * Polls until every assigned partition that holds records has yielded its first one (bounded in time and
     * records), anchors the clock on the earliest capture time among them, then handles them. Anchoring on
     * whichever partition answered first would make the sessions of the other partitions overdue at once.
     */
    private void anchorOnEarliestPartition() {
        List<ConsumerRecord<byte[], byte[]>> early = new ArrayList<>();
        Set<TopicPartition> seen = new HashSet<>();
        long deadline = System.nanoTime() + WARM_UP_NANOS;
        try {
            while (!stopping && System.nanoTime() < deadline && early.size() < WARM_UP_MAX_RECORDS) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    early.add(r);
                }
                seen.addAll(records.partitions());
                if (assignedOnce && everyPartitionWithRecordsSeen(seen)) {
                    break;
                }
            }
        } catch (WakeupException e) {
            // stop() came: the records gathered are already past the position that will be committed, so
            // they must still be handled (run() skips its loop since stopping is set before the wake-up).
        }
        long earliest = Long.MAX_VALUE;
        for (TopicPartition tp : seen) {
            // Records of one partition come in capture order, so its first record is its earliest.
            for (ConsumerRecord<byte[], byte[]> r : early) {
                if (r.partition() == tp.partition()) {
                    earliest = Math.min(earliest, captureMicros(r));
                    break;
                }
            }
        }
        if (earliest != Long.MAX_VALUE) {
            engine.clock.anchor(earliest, System.nanoTime());
        }
        for (ConsumerRecord<byte[], byte[]> r : early) {
            handle(r);
        }
        engine.mailbox.flush();
    }

    private boolean everyPartitionWithRecordsSeen(Set<TopicPartition> seen) {
        for (TopicPartition tp : consumer.assignment()) {
            Long start = startOffsets.get(tp);
            Long end = endOffsets.get(tp);
            if (start != null && end != null && start < end && !seen.contains(tp)) {
                return false;
            }
        }
        return true;
    }

    /** The record's capture time, or Long.MAX_VALUE when it does not decode (it is counted when handled). */
    private long captureMicros(ConsumerRecord<byte[], byte[]> r) {
        try {
            return reader.read(r.value()).timestampMicros();
        } catch (IllegalArgumentException e) {
            return Long.MAX_VALUE;
        }
    }

    private void commitConsumed() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                consumer.commitSync(Duration.ofSeconds(5));
                return;
            } catch (WakeupException e) {
                // a stop() that came after the last poll leaves its wake-up pending: it fires here once
            } catch (KafkaException e) {
                log.warn("could not commit the consumed offsets of {}: {}", request.topic(), e.getMessage());
                return;
            }
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> r) {
        counters.recordsConsumed.increment();
        try {
            reader.read(r.value());
        } catch (IllegalArgumentException e) {
            counters.skipRecord("undecodable");
            return;
        }
        PacketStatus status = view.wrap(reader.packetArray(), reader.packetOffset(), reader.packetLength(),
                reader.originalLength());
        if (status != PacketStatus.TCP) {
            counters.skipRecord(switch (status) {
                case NOT_IP, NOT_TCP -> "not-tcp";
                case FRAGMENT -> "ip-fragment";
                case TRUNCATED -> "truncated-packet";
                default -> "malformed-packet";
            });
            return;
        }
        engine.clock.anchor(reader.timestampMicros(), System.nanoTime());
        boolean clientToServer = reader.direction() == Direction.CLIENT_TO_SERVER;
        // The key is rebuilt from the packet itself, so a record with a missing or foreign key still lands in the right session.
        FlowKey key = FlowKey.of(view, clientToServer);
        SessionTable.Outcome o = table.accept(key, r.partition(), clientToServer, view, reader.timestampMicros(),
                activeNanos(System.nanoTime()));
        if (o == SessionTable.Outcome.DATA_AFTER_CLOSE) {
            counters.skipRecord("data-after-close");
        }
    }

    private void flowControl(long now) {
        long pending = engine.pendingBytes.get();
        // Every slot held by a session waiting for its next captured message while others queue for a slot:
        // the queued bytes can only drain after more input, so a pause would never end. Memory is then bounded
        // by the capture up to the next message (or end) of one starved session, otherwise by maxBufferedBytes.
        boolean stuck = engine.starvedSlots.get() >= tuning.maxConnections() && engine.limiter.waiting() > 0;
        if (!paused && pending > tuning.maxBufferedBytes() && !stuck) {
            paused = true;
            pausedSince = now;
        } else if (paused && (pending <= tuning.maxBufferedBytes() / 2 || stuck)) {
            paused = false;
            pausedTotal += now - pausedSince;
            consumer.resume(consumer.paused());
        }
        if (paused) {
            consumer.pause(consumer.assignment()); // again after a rebalance added partitions
        }
    }

    /** Wall time that passed while consuming, not while paused: being held back does not make a flow idle. */
    private long activeNanos(long now) {
        return now - pausedTotal - (paused ? now - pausedSince : 0);
    }

    private void sweep(long now) {
        long flush = request.untilEnd() ? 0 : tuning.idleFlush().toNanos();
        long end = request.untilEnd() ? 0 : tuning.idleEnd().toNanos();
        table.sweep(activeNanos(now), paused ? 0 : flush, paused ? 0 : end, FORGET_CLOSED_NANOS);
        if (request.untilEnd()) {
            updateFraction();
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

    private void updateFraction() {
        long remaining = 0;
        for (TopicPartition tp : consumer.assignment()) {
            Long end = endOffsets.get(tp);
            if (end != null) {
                remaining += Math.max(0, end - consumer.position(tp));
            }
        }
        long consumed = counters.recordsConsumed.sum();
        consumedFraction = consumed + remaining == 0 ? (assignedOnce ? 1 : -1) : (double) consumed / (consumed + remaining);
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
                for (TopicPartition tp : partitions) {
                    startOffsets.put(tp, consumer.position(tp));
                }
            }
            log.debug("assigned {} with end offsets {}", partitions, endOffsets);
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
                startOffsets.remove(tp);
            }
            // Another member continues these partitions from the committed offsets; our part of their sessions ends here.
            table.finishPartitions(numbers::contains);
            engine.mailbox.flush();
        }
    }
}
