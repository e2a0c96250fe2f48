package dev.trafficbus.replay.intake;

import dev.trafficbus.bus.RecordHeaderNames;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.session.CapturedSession;
import dev.trafficbus.session.SessionEnd;
import dev.trafficbus.session.SessionEvents;
import dev.trafficbus.session.SessionKey;
import dev.trafficbus.session.SessionTable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * The one consumer thread: polls the topic, decodes every packet of each record in place, in order, and feeds
 * the captured sessions, which hand complete messages to the engine. Pauses the topic while too many captured bytes
 * wait to be sent. Reads each partition as its {@link PartitionPlan} says (window, resume point, end), once
 * per loop pass. Commits only up to the first record of the oldest session not finished yet
 * ({@link OffsetLedger}): a crash loses no session, and may replay a few again (at-least-once).
 */
public final class CaptureConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CaptureConsumer.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /** While paused nothing comes: a short wait, so that a slot that needs more of the capture gets it soon. */
    private static final Duration POLL_PAUSED = Duration.ofMillis(2);
    /** Often, so a crash repeats little: a commit is one small request. */
    private static final long COMMIT_EVERY_NANOS = 1_000_000_000L;
    private static final long SWEEP_EVERY_NANOS = 200_000_000L;
    // With an end in sight nothing is flushed or ended by idleness, so sweeps only forget closed flows: rarely is
    // enough (a sweep walks every open session, tens of thousands in a large replay).
    private static final long SWEEP_BOUNDED_EVERY_NANOS = 2_000_000_000L;
    private static final long FORGET_CLOSED_NANOS = 10_000_000_000L;
    private static final long WARM_UP_NANOS = 3_000_000_000L;
    private static final int WARM_UP_MAX_RECORDS = 100_000;
    /**
     * How far past the window end, in capture time, records are read for sessions that began inside it: a
     * record comes at most the forwarder's batching time (a few ms) behind younger ones; this leaves room.
     */
    private static final long LATE_RECORDS_MICROS = 1_000_000L;

    /** Receives the packets of a session that is not replayed (outside the window, already replayed). */
    private static final SessionEvents LEFT_OUT = new SessionEvents() {
        @Override
        public void message(int index, byte[] bytes, long captureTimeMicros) {
        }

        @Override
        public void expectedResponse(int index, long bytes, boolean settled) {
        }

        @Override
        public void end(SessionEnd end) {
        }
    };

    private final ReplayRequest request;
    private final ReplayOptions options;
    private final ReplayTuning tuning;
    private final Engine engine;
    private final ReplayCounters counters;
    private final ReplayClock clock;
    private final OffsetLedger ledger;
    private final KafkaConsumer<ByteBuffer, ByteBuffer> consumer;
    private final SessionTable table;
    private final ProductionGuard guard;
    private final boolean bounded;
    private final CaptureRecordReader in = new CaptureRecordReader();
    private final Map<TopicPartition, PartitionPlan> plans = new HashMap<>();
    private final Map<Integer, PartitionPlan> plansByNumber = new HashMap<>();
    private volatile boolean stopping;
    private volatile double consumedFraction = -1;
    private boolean assignedOnce;
    private final IntakeThrottle throttle;
    private int pass = 1;
    private long lastCommitNanos = System.nanoTime();
    /** The key of the latest packet: the next one (of the same record, mostly) reuses it when it is its flow's. */
    private SessionKey lastKey;
    // The record being handled, for the opener of a new session.
    private ConsumerRecord<ByteBuffer, ByteBuffer> current;
    private byte[] lastSourceBytes;
    private String lastSource = "";
    private PartitionPlan currentPlan;

    /** The consumer of the run {@code ctx} describes, feeding {@code engine}. */
    public CaptureConsumer(EngineContext ctx, Engine engine) {
        this.request = ctx.request();
        this.options = ctx.options();
        this.tuning = ctx.tuning();
        this.engine = engine;
        this.counters = ctx.counters();
        this.clock = ctx.clock();
        this.ledger = ctx.ledger();
        this.bounded = request.untilEnd() || options.window().to() != null;
        this.guard = options.allowProductionTarget() ? null : new ProductionGuard(request.target());
        this.table = new SessionTable(new Opener(), CapturedSession.DEFAULT_MAX_BUFFERED);
        Properties p = new Properties();
        p.putAll(request.consumerConfig());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, request.groupOrDefault());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "trafficbus-replay");
        p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        // A fetch response is one array, outside the young generation once it is MBs, alive until its last record is
        // read (for as long as a done partition stays paused): small fetches keep the heap small.
        p.putIfAbsent(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(1 << 20));
        p.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(256 << 10));
        // The consumer's buffers as they are: a value is read in place, and the key (the flow, which the packets
        // say again) is not read at all, so neither is copied per record.
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(p);
        this.throttle = new IntakeThrottle(engine, tuning.maxBufferedBytes());
    }

    /** Asks {@link #run} to return soon (any thread). */
    public void stop() {
        stopping = true;
        consumer.wakeup();
    }

    /** Share of the records to read consumed so far (bounded runs), or -1 when unknown. */
    public double consumedFraction() {
        return consumedFraction;
    }

    /**
     * Consumes until {@link #stop()}, or in a bounded run until every assigned partition reached its end, once
     * per loop pass, waiting between passes until the previous pass's sessions finished.
     * Sessions still being captured when reading ends are ended and marked cut, so their records stay
     * uncommitted. {@code tick} runs after every poll. Does not commit: call {@link #commit()} after the drain.
     */
    public void run(Runnable tick) {
        consumer.subscribe(List.of(request.topic()), new Rebalance());
        try {
            for (; pass <= options.loops() && !stopping; pass++) {
                if (pass > 1) {
                    nextPass(tick);
                }
                if (!clock.isMax()) {
                    anchorOnEarliestPartition();
                }
                readPass(tick);
                endInput(p -> true);
            }
        } catch (WakeupException e) {
            // stop() was called
        }
        endInput(p -> true);
    }

    private void readPass(Runnable tick) {
        long now = System.nanoTime();
        long lastSweep = now;
        long lastFraction = now;
        long sweepEvery = bounded ? SWEEP_BOUNDED_EVERY_NANOS : SWEEP_EVERY_NANOS;
        while (!stopping) {
            ConsumerRecords<ByteBuffer, ByteBuffer> records = consumer.poll(throttle.paused() ? POLL_PAUSED : POLL);
            for (ConsumerRecord<ByteBuffer, ByteBuffer> r : records) {
                handle(r);
            }
            engine.flush();
            now = System.nanoTime();
            throttle.update(now);
            throttle.apply(consumer, plans);
            if (bounded && now - lastFraction >= SWEEP_EVERY_NANOS) {
                lastFraction = now;
                updateFraction();
            }
            if (now - lastSweep >= sweepEvery) {
                lastSweep = now;
                sweep(now);
                engine.flush();
            }
            commitNowAndThen(now);
            tick.run();
            if (bounded && assignedOnce && passDone()) {
                return;
            }
        }
    }

    /** Waits for the previous pass's sessions, then seeks every partition back to its start. */
    private void nextPass(Runnable tick) {
        consumer.pause(consumer.assignment());
        while (!stopping && engine.liveSessions() > 0) {
            consumer.poll(POLL); // keeps the membership alive; paused partitions return nothing
            commitNowAndThen(System.nanoTime());
            tick.run();
        }
        table.clear();
        clock.reset();
        for (PartitionPlan plan : plans.values()) {
            consumer.seek(plan.tp, plan.start);
            plan.done = false;
            plan.lastTsMicros = Long.MIN_VALUE;
        }
        throttle.end(System.nanoTime());
        consumer.resume(consumer.assignment());
    }

    /** Ends the sessions of the partitions {@code which} accepts, marking those still being captured as cut. */
    private void endInput(java.util.function.IntPredicate which) {
        table.forEachLive(which, ev -> {
            if (ev instanceof ReplayedSession s) {
                s.cut();
            }
        });
        table.finishPartitions(which);
        engine.flush();
    }

    /**
     * Polls until every assigned partition that holds records has yielded its first one (bounded in time and
     * records), anchors the clock on the earliest capture time among them, then handles them. Anchoring on
     * whichever partition answered first would make the sessions of the other partitions overdue at once. The
     * time bound counts from the assignment: joining the group alone can take longer on a loaded machine.
     */
    private void anchorOnEarliestPartition() {
        List<ConsumerRecord<ByteBuffer, ByteBuffer>> early = new ArrayList<>();
        Set<TopicPartition> seen = new HashSet<>();
        long deadline = assignedOnce ? System.nanoTime() + WARM_UP_NANOS : Long.MAX_VALUE;
        try {
            while (!stopping && System.nanoTime() < deadline && early.size() < WARM_UP_MAX_RECORDS) {
                ConsumerRecords<ByteBuffer, ByteBuffer> records = consumer.poll(POLL);
                if (deadline == Long.MAX_VALUE && assignedOnce) {
                    deadline = System.nanoTime() + WARM_UP_NANOS;
                }
                for (ConsumerRecord<ByteBuffer, ByteBuffer> r : records) {
                    early.add(r);
                }
                seen.addAll(records.partitions());
                if (assignedOnce && everyPartitionWithRecordsSeen(seen)) {
                    break;
                }
            }
        } catch (WakeupException e) {
            // stop() came: the records gathered are past the consumer position, so they are still handled
        }
        long earliest = Long.MAX_VALUE;
        // Not just each partition's first record: records of one partition are only roughly in capture order (a
        // batch closed early by a FIN is published before an older one of another flow still open).
        for (ConsumerRecord<ByteBuffer, ByteBuffer> r : early) {
            earliest = Math.min(earliest, captureMicros(r));
        }
        if (earliest != Long.MAX_VALUE) {
            clock.anchor(earliest);
        }
        for (ConsumerRecord<ByteBuffer, ByteBuffer> r : early) {
            handle(r);
        }
        engine.flush();
    }

    private boolean everyPartitionWithRecordsSeen(Set<TopicPartition> seen) {
        for (TopicPartition tp : consumer.assignment()) {
            PartitionPlan plan = plans.get(tp);
            if (plan != null && plan.start < plan.rangeEnd(bounded) && plan.start < plan.endAtStart
                    && !seen.contains(tp)) {
                return false;
            }
        }
        return true;
    }

    /** The record's first packet's capture time, or Long.MAX_VALUE when it does not decode (counted when handled). */
    private long captureMicros(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
        return in.read(r.value()) ? in.timestampMicros() : Long.MAX_VALUE;
    }

    /**
     * Commits without waiting, at most every second, how far sessions are finished; also called while the
     * replay drains after reading ended (consumer thread only).
     */
    public void commitNowAndThen(long now) {
        if (now - lastCommitNanos >= COMMIT_EVERY_NANOS) {
            lastCommitNanos = now;
            try {
                consumer.commitAsync(commitPoints(), null);
            } catch (KafkaException e) {
                log.debug("periodic commit failed: {}", e.getMessage()); // the next one or the final one follows
            }
        }
    }

    /** Commits, for every assigned partition, the offset before which every session is finished. */
    public void commit() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                consumer.commitSync(commitPoints(), Duration.ofSeconds(5));
                return;
            } catch (WakeupException e) {
                // a stop() that came after the last poll leaves its wake-up pending: it fires here once
            } catch (KafkaException e) {
                log.warn("could not commit the replayed offsets of {}: {}", request.topic(), e.getMessage());
                return;
            }
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> commitPoints() {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            m.put(tp, ledger.commitPoint(tp.partition(), consumer.position(tp)));
        }
        return m;
    }

    private void handle(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
        int copy = in.open(r, counters);
        if (copy < 0) {
            return;
        }
        PartitionPlan plan = plansByNumber.get(r.partition());
        current = r;
        currentPlan = plan;
        try {
            do {
                ReplayProblem skip = in.wrap();
                if (skip != null) {
                    counters.skipPackets(skip, 1);
                    continue;
                }
                handlePacket(r, plan, copy);
            } while (in.advance());
        } finally {
            current = null;
        }
    }

    /** One TCP packet of record {@code r}; the record's offset stands for all its packets in the ledger. */
    private void handlePacket(ConsumerRecord<ByteBuffer, ByteBuffer> r, PartitionPlan plan, int copy) {
        PacketView view = in.view();
        long ts = in.timestampMicros();
        if (plan != null) {
            plan.lastTsMicros = Math.max(plan.lastTsMicros, ts);
        }
        clock.anchor(ts);
        boolean clientToServer = in.clientToServer();
        // The key is rebuilt from the packet itself, so a record with a missing or foreign key still lands in the right session.
        SessionKey key = lastKey;
        if (key == null || key.copy() != copy || !key.flow().matches(view, clientToServer)) {
            key = new SessionKey(FlowKey.of(view, clientToServer), copy);
            lastKey = key;
        }
        SessionTable.Outcome o = table.accept(key, r.partition(), r.offset(), clientToServer, view, ts,
                throttle.activeNanos(System.nanoTime()));
        if (ts >= options.window().toMicros() && table.lastAccepted() instanceof ReplayedSession s && !s.pastWindowEnd) {
            s.pastWindowEnd = true; // begun inside the window, captured on past its end: replayed whole
            counters.sessionsContinuingAfterWindow.increment();
        }
        if (o == SessionTable.Outcome.DATA_AFTER_CLOSE) {
            counters.skipPackets(ReplayProblem.DATA_AFTER_CLOSE, 1);
        }
    }

    /** Sessions of {@code partition} being replayed whose capture has not ended (left-out ones do not count). */
    private int replaysBeingRead(int partition) {
        if (table.liveSessions(partition) == 0) {
            return 0;
        }
        int[] n = new int[1];
        table.forEachLive(p -> p == partition, ev -> {
            if (ev instanceof ReplayedSession) {
                n[0]++;
            }
        });
        return n[0];
    }

    /** The source of the record (tb.source), the same String for every session of one source. */
    private String sourceOf(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
        Header h = r == null ? null : r.headers().lastHeader(RecordHeaderNames.SOURCE);
        if (h == null || h.value() == null) {
            return "";
        }
        byte[] v = h.value();
        if (!java.util.Arrays.equals(v, lastSourceBytes)) {
            lastSourceBytes = v;
            lastSource = new String(v, StandardCharsets.UTF_8);
        }
        return lastSource;
    }

    /** Decides, when a record starts a session, whether it is replayed. */
    private final class Opener implements SessionTable.Opener {
        @Override
        public SessionEvents open(FlowKey key, long firstTsMicros, int partition) {
            return open(new SessionKey(key, 0), firstTsMicros, partition, -1, true);
        }

        @Override
        public SessionEvents open(SessionKey key, long ts, int partition, long offset, boolean synStart) {
            PartitionPlan plan = currentPlan;
            if (plan != null && offset >= plan.stop && !lateInWindow(plan, offset, ts)) {
                return LEFT_OUT; // after the window: only sessions begun inside are read on
            }
            counters.sessionsCaptured.increment();
            if (guard != null) {
                guard.check(key.flow());
            }
            LeftOutReason reason = null;
            if (plan != null && pass == 1 && plan.finishedBefore.contains(offset)) {
                reason = LeftOutReason.ALREADY_REPLAYED;
            } else if (options.window().from() != null && !synStart && plan != null && plan.recordsBefore) {
                // its start (SYN) is not in the window: never replayed in part
                reason = LeftOutReason.STARTS_BEFORE_WINDOW;
            } else if (!options.window().contains(ts)) {
                reason = ts < options.window().fromMicros() ? LeftOutReason.STARTS_BEFORE_WINDOW
                        : LeftOutReason.STARTS_AFTER_WINDOW;
            }
            if (reason != null) {
                counters.leftOut(reason);
                return LEFT_OUT;
            }
            return engine.open(key, ts, partition, offset, sourceOf(current), in.view());
        }
    }

    /**
     * A session first captured inside the window whose record comes after the window's end offset: records are
     * only roughly in capture order, so a few start there and belong to the window all the same.
     */
    private boolean lateInWindow(PartitionPlan plan, long offset, long ts) {
        return options.window().to() != null && ts < options.window().toMicros() && offset < plan.endAtStart;
    }

    private void sweep(long now) {
        long flush = bounded ? 0 : tuning.idleFlush().toNanos();
        long end = bounded ? 0 : tuning.idleEnd().toNanos();
        boolean paused = throttle.paused();
        table.sweep(throttle.activeNanos(now), paused ? 0 : flush, paused ? 0 : end, FORGET_CLOSED_NANOS);
    }

    /**
     * True when every assigned partition is done: read to its end offset of assignment time, or past the
     * window end (and {@link #LATE_RECORDS_MICROS} of capture time beyond it, for records that come late) with no
     * session of it still open, or with the capture gone on for the idle-end time past the window end: those
     * sessions end there. Done partitions are paused.
     */
    private boolean passDone() {
        boolean all = true;
        long margin = options.window().to() == null ? Long.MIN_VALUE
                : options.window().toMicros() + LATE_RECORDS_MICROS;
        long grace = Math.max(tuning.idleEnd().toNanos() / 1000, LATE_RECORDS_MICROS);
        for (TopicPartition tp : consumer.assignment()) {
            PartitionPlan plan = plans.get(tp);
            if (plan == null) {
                return false;
            }
            if (plan.done) {
                continue;
            }
            long pos = consumer.position(tp);
            boolean pastStop = pos >= plan.stop;
            boolean overdue = pastStop && options.window().to() != null
                    && plan.lastTsMicros - options.window().toMicros() > grace;
            boolean lateRecordsRead = plan.lastTsMicros >= margin;
            if (pos >= plan.endAtStart || (pastStop && lateRecordsRead && replaysBeingRead(tp.partition()) == 0)
                    || overdue) {
                plan.done = true;
                consumer.pause(List.of(tp));
            } else {
                all = false;
            }
        }
        return all;
    }

    private void updateFraction() {
        long total = 0;
        long read = 0;
        for (TopicPartition tp : consumer.assignment()) {
            PartitionPlan plan = plans.get(tp);
            if (plan == null) {
                continue;
            }
            long end = plan.rangeEnd(true);
            total += Math.max(0, end - plan.start);
            read += Math.max(0, Math.min(end, consumer.position(tp)) - plan.start);
        }
        double share = total == 0 ? (assignedOnce ? 1 : -1) : (double) read / total;
        consumedFraction = options.loops() > 1 && share >= 0 ? ((pass - 1) + share) / options.loops() : share;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assignedOnce = true;
            Map<TopicPartition, PartitionPlan> added = PartitionPlan.plan(consumer, partitions, options.window(), bounded);
            plans.putAll(added);
            added.values().forEach(p -> plansByNumber.put(p.tp.partition(), p));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            release(partitions, true);
        }

        /**
         * Lets the sessions of partitions given up finish before their offsets are committed, so the next owner
         * does not replay them again; what is still running after the drain timeout is interrupted and left to it.
         */
        private void finishInFlight(Set<Integer> numbers) {
            long deadline = System.nanoTime() + tuning.drainTimeout().toNanos();
            while (engine.liveSessions(numbers::contains) > 0 && System.nanoTime() - deadline < 0) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (engine.liveSessions(numbers::contains) > 0) {
                engine.interrupt(numbers::contains);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            release(partitions, false);
        }

        private void release(Collection<TopicPartition> partitions, boolean commit) {
            Set<Integer> numbers = new HashSet<>();
            for (TopicPartition tp : partitions) {
                numbers.add(tp.partition());
            }
            // Another member continues these partitions from the committed offsets; our part of their sessions ends here.
            endInput(numbers::contains);
            if (commit) {
                finishInFlight(numbers);
                Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
                for (TopicPartition tp : partitions) {
                    m.put(tp, ledger.commitPoint(tp.partition(), consumer.position(tp)));
                }
                try {
                    consumer.commitSync(m, Duration.ofSeconds(5));
                } catch (KafkaException e) {
                    log.warn("could not commit before giving up {}: {}", partitions, e.getMessage());
                }
            }
            ledger.forget(numbers);
            for (TopicPartition tp : partitions) {
                plans.remove(tp);
                plansByNumber.remove(tp.partition());
            }
        }
    }
}
