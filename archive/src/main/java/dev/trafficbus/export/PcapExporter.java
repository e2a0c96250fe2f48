package dev.trafficbus.export;

import dev.trafficbus.archive.ArchiveTopic;
import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * Reads a capture topic between two capture times and writes every packet of its records to a pcap file in
 * capture-time order: every partition is sought by timestamp, read up to the window's end (or the end offsets at
 * start), the partitions' records are merged by {@link TimestampMerge} and their packets ordered by a
 * {@link ReorderBuffer}.
 */
public final class PcapExporter {
    private static final Logger log = LoggerFactory.getLogger(PcapExporter.class);
    /** Records a partition may hold in memory before it is paused. */
    private static final int MAX_BUFFERED = 5_000;
    /** Packet bytes all partitions together may hold before they are paused (shared out per partition, 1 MB at least). */
    private static final long MAX_BUFFERED_BYTES = 64L << 20;
    /** Packet bytes the reorder buffer may hold before its oldest packets are written regardless of the horizon. */
    private static final long MAX_REORDER_BYTES = 64L << 20;
    /**
     * How far past the window's end records are read. A processor holds a session's first packets until its request
     * head arrives (up to its --held-timeout, 30 s by default) and then publishes them after packets captured later,
     * so in a subscription topic records of the window can follow the first one stamped after its end. The extra
     * records read are counted as outside the window.
     */
    static final Duration LATE_RECORDS = Duration.ofSeconds(60);
    /**
     * How far before --from reading starts at least (more when the reorder window is longer): a record is stamped with
     * its first packet's time and holds packets of the next few ms, and records of a partition are only roughly in
     * timestamp order, so records stamped a little before the window can hold packets inside it. The extra packets
     * read are counted as outside the window.
     */
    static final Duration EARLY_RECORDS = Duration.ofSeconds(1);
    /** How long the broker may deliver nothing while partitions still have records before the export gives up. */
    private static final Duration STALL_LIMIT = Duration.ofSeconds(30);

    private final Properties clientConfig;
    private final String topic;
    private final TimeWindow window;
    private final Path output;
    private final ProgressDisplay progress;
    private final BooleanSupplier stopRequested;
    private final Duration reorderWindow;

    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final EnumMap<ExportSkipReason, Long> skipped = new EnumMap<>(ExportSkipReason.class);
    private long recordsRead;
    private long packetsRead;
    private long outsideWindow;
    private long packetOrder;

    /**
     * @param clientConfig  Kafka client settings, bootstrap.servers included
     * @param reorderWindow how much older than the records merged so far a record still to come may be: packets wait
     *                      that long (in capture time) for earlier ones before they are written
     * @param stopRequested checked between polls: when true the export writes what it merged so far and ends
     */
    public PcapExporter(Properties clientConfig, String topic, TimeWindow window, Path output, Duration reorderWindow,
                        ProgressDisplay progress, BooleanSupplier stopRequested) {
        if (reorderWindow.isNegative()) {
            throw new UserInputException("--reorder-window must not be negative");
        }
        this.clientConfig = clientConfig;
        this.topic = topic;
        this.window = window;
        this.output = output;
        this.reorderWindow = reorderWindow;
        this.progress = progress;
        this.stopRequested = stopRequested;
        for (ExportSkipReason r : ExportSkipReason.values()) {
            skipped.put(r, 0L);
        }
    }

    /** Runs the export; bad input (missing topic, unwritable file, unreachable broker) is a {@link UserInputException}. */
    public ExportSummary run() {
        checkWritable(output);
        String servers = String.valueOf(clientConfig.get("bootstrap.servers"));
        long start = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = ArchiveTopic.openConsumer(clientConfig, "trafficbus-export")) {
            List<TopicPartition> partitions = ArchiveTopic.partitions(consumer, topic, servers,
                    "check --topic (capture topics are tb.capture.<source>)");
            consumer.assign(partitions);
            boolean seekByTime = (window.hasFrom() || window.hasTo()) && !ArchiveTopic.stampedAtAppend(clientConfig, topic);
            if (!seekByTime && (window.hasFrom() || window.hasTo())) {
                log.info("{} stamps records with the broker's append time, not the capture time: reading it whole"
                        + " and keeping the packets captured in the window", topic);
            }
            Map<TopicPartition, Long> end = endOffsets(consumer, partitions, servers, seekByTime);
            Map<TopicPartition, Long> begin = startOffsets(consumer, partitions, end, seekByTime);
            ReorderBuffer reorder = new ReorderBuffer(horizonMicros(), MAX_REORDER_BYTES);
            try (PcapWriter writer = open(output)) {
                boolean stopped = copy(consumer, partitions, begin, end, reorder, writer, start);
                writer.close();
                return new ExportSummary(topic, output, window, recordsRead, labels(true), packetsRead,
                        writer.packets(), outsideWindow, labels(false), reorder.outOfOrder(), writer.bytes(),
                        (System.nanoTime() - start) / 1e9, stopped);
            } catch (IOException e) {
                throw new UserInputException("writing " + output + " failed: " + e.getMessage(), e);
            }
        } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
            throw ArchiveTopic.deletedWhileReading(topic, e);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw KafkaAdmin.unreachable(servers, null, e);
        } finally {
            progress.finish();
        }
    }

    /** Merges and writes; true when a stop request ended it early. */
    private boolean copy(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions,
                         Map<TopicPartition, Long> begin, Map<TopicPartition, Long> end, ReorderBuffer reorder,
                         PcapWriter writer, long startNanos) throws IOException {
        int n = partitions.size();
        TimestampMerge merge = new TimestampMerge(n, MAX_BUFFERED, Math.max(1L << 20, MAX_BUFFERED_BYTES / n));
        // Per-record lookups by partition number into arrays: no map entry or key object per record.
        int[] index = new int[partitions.get(n - 1).partition() + 1];
        long[] endOffset = new long[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            TopicPartition tp = partitions.get(i);
            index[tp.partition()] = i;
            long from = begin.get(tp);
            long to = end.get(tp);
            endOffset[i] = to;
            total += Math.max(0, to - from);
            // Every partition gets a position, also an empty one: without it poll would look for a reset policy.
            consumer.seek(tp, Math.min(from, to));
            if (from >= to) {
                merge.finish(i);
            }
        }
        boolean[] paused = new boolean[n];
        long lastProgress = System.nanoTime();
        while (true) {
            writeReady(merge, reorder, writer);
            if (merge.drained()) {
                break;
            }
            if (stopRequested.getAsBoolean()) {
                // What was read is written: every partition's unread records are later than what the merge already
                // emitted, so the buffered ones still go out in time order and the counters add up.
                for (int i = 0; i < n; i++) {
                    merge.finish(i);
                }
                writeReady(merge, reorder, writer);
                return true;
            }
            for (int i = 0; i < n; i++) {
                boolean full = merge.finished(i) || merge.full(i);
                if (full != paused[i]) {
                    if (full) {
                        consumer.pause(List.of(partitions.get(i)));
                    } else {
                        consumer.resume(List.of(partitions.get(i)));
                    }
                    paused[i] = full;
                }
            }
            ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
            boolean advanced = false;
            for (ConsumerRecord<byte[], byte[]> r : records) {
                int i = index[r.partition()];
                if (merge.finished(i) || r.offset() >= endOffset[i]) {
                    continue;
                }
                advanced = true;
                recordsRead++;
                TimestampMerge.Entry entry = decode(r.value());
                if (entry != null) {
                    merge.add(i, entry);
                }
            }
            for (int i = 0; i < n; i++) {
                // Position, not the last offset seen: transaction markers and compaction leave gaps before the end.
                if (!merge.finished(i) && consumer.position(partitions.get(i)) >= endOffset[i]) {
                    merge.finish(i);
                    advanced = true;
                }
            }
            long now = System.nanoTime();
            if (advanced) {
                lastProgress = now;
            } else if (now - lastProgress > STALL_LIMIT.toNanos()) {
                throw new UserInputException("Kafka delivered nothing from " + topic + " for " + STALL_LIMIT.toSeconds()
                        + " s although the window is not complete (" + recordsRead + " of " + total
                        + " records read); " + output + " holds the " + writer.packets() + " packets written so far");
            }
            showProgress(total, startNanos, writer.packets());
        }
        return false;
    }

    /**
     * Moves every record the merge can release into the reorder buffer, writing the packets that may go after each
     * (so what is written does not depend on how Kafka grouped the records into polls); once the merge is drained no
     * record can come any more, and the buffer is written out whole.
     */
    private static void writeReady(TimestampMerge merge, ReorderBuffer reorder, PcapWriter writer) throws IOException {
        for (TimestampMerge.Entry e = merge.poll(); e != null; e = merge.poll()) {
            reorder.add(e.timestampMicros(), e.packets());
            for (ExportPacket p = reorder.pollReady(); p != null; p = reorder.pollReady()) {
                write(writer, p);
            }
        }
        if (merge.drained()) {
            for (ExportPacket p = reorder.pollAny(); p != null; p = reorder.pollAny()) {
                write(writer, p);
            }
        }
    }

    private static void write(PcapWriter writer, ExportPacket p) throws IOException {
        writer.write(p.timestampMicros(), p.clientToServer(), p.value(), p.offset(), p.length(), p.originalLength());
    }

    /**
     * The record's packets that are to be written, as a merge entry stamped with its first packet's capture time;
     * null when none is (each packet left out is counted as outside the window or skipped, an undecodable value as
     * one skipped record).
     */
    private TimestampMerge.Entry decode(byte[] value) {
        try {
            reader.read(value);
        } catch (IllegalArgumentException e) {
            skip(ExportSkipReason.UNDECODABLE);
            return null;
        }
        long recordTimestamp = reader.timestampMicros();
        ExportPacket[] kept = new ExportPacket[reader.packetCount()];
        int count = 0;
        long bytes = 0;
        do {
            packetsRead++;
            long ts = reader.timestampMicros();
            int len = reader.packetLength();
            int version = len > 0 ? (value[reader.packetOffset()] & 0xF0) >>> 4 : 0;
            if (!window.contains(ts)) {
                outsideWindow++;
            } else if (version != 4 && version != 6) {
                skip(ExportSkipReason.NOT_IP);
            } else if (!PcapWriter.representable(ts)) {
                skip(ExportSkipReason.BAD_TIMESTAMP);
            } else {
                kept[count++] = new ExportPacket(ts, reader.direction() == Direction.CLIENT_TO_SERVER, value,
                        reader.packetOffset(), len, reader.originalLength(), packetOrder++);
                bytes += len;
            }
        } while (reader.advance());
        if (count == 0) {
            return null;
        }
        return new TimestampMerge.Entry(recordTimestamp, count == kept.length ? kept : Arrays.copyOf(kept, count), bytes);
    }

    private void skip(ExportSkipReason reason) {
        skipped.merge(reason, 1L, Long::sum);
    }

    /** The skip counters of records ({@code perRecord}) or of packets, by label. */
    private Map<String, Long> labels(boolean perRecord) {
        Map<String, Long> m = new LinkedHashMap<>();
        skipped.forEach((r, v) -> {
            if (r.perRecord() == perRecord) {
                m.put(r.label(), v);
            }
        });
        return m;
    }

    /** The reorder window in microseconds, saturated: a window of centuries simply holds every packet to the end. */
    private long horizonMicros() {
        try {
            return Math.multiplyExact(reorderWindow.getSeconds(), 1_000_000L) + reorderWindow.getNano() / 1000;
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private void showProgress(long total, long startNanos, long written) {
        if (!progress.enabled()) {
            return;
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = seconds > 0 ? recordsRead / seconds : 0;
        double eta = rate > 0 ? (total - recordsRead) / rate : Double.NaN;
        progress.update(recordsRead, total, String.format(Locale.ROOT,
                "%d/%d records, %d packets read, %d written, %.0f records/s, ETA %s",
                recordsRead, total, packetsRead, written, rate, ProgressDisplay.eta(eta)));
    }

    /** The end offsets now, or earlier where the window ends: the first offset stamped {@link #LATE_RECORDS} after its end. */
    private Map<TopicPartition, Long> endOffsets(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions,
                                                 String servers, boolean seekByTime) {
        Map<TopicPartition, Long> end = new HashMap<>(ArchiveTopic.endOffsets(consumer, partitions, servers));
        if (seekByTime && window.hasTo()) {
            for (Map.Entry<TopicPartition, OffsetAndTimestamp> e : offsetsForTime(consumer, partitions,
                    window.toMillisExclusive() + LATE_RECORDS.toMillis()).entrySet()) {
                if (e.getValue() != null) {
                    end.merge(e.getKey(), e.getValue().offset(), Math::min);
                }
            }
        }
        return end;
    }

    /**
     * The beginning, or the first offset stamped at or after the window's start less {@link #EARLY_RECORDS} or the
     * reorder window, whichever is longer (none: nothing to read).
     */
    private Map<TopicPartition, Long> startOffsets(KafkaConsumer<byte[], byte[]> consumer,
                                                   List<TopicPartition> partitions, Map<TopicPartition, Long> end,
                                                   boolean seekByTime) {
        if (!seekByTime || !window.hasFrom()) {
            return consumer.beginningOffsets(partitions);
        }
        long early = Math.max(EARLY_RECORDS.toMillis(), reorderWindow.toMillis());
        long from = window.fromMillis() - Math.min(early, Math.max(0, window.fromMillis()));
        Map<TopicPartition, OffsetAndTimestamp> found = offsetsForTime(consumer, partitions, from);
        Map<TopicPartition, Long> begin = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndTimestamp o = found.get(tp);
            begin.put(tp, o == null ? end.get(tp) : o.offset());
        }
        return begin;
    }

    private static Map<TopicPartition, OffsetAndTimestamp> offsetsForTime(KafkaConsumer<byte[], byte[]> consumer,
                                                                          List<TopicPartition> partitions, long millis) {
        Map<TopicPartition, Long> query = new HashMap<>();
        for (TopicPartition tp : partitions) {
            query.put(tp, Math.max(0, millis));
        }
        return consumer.offsetsForTimes(query);
    }

    /** Fails before any Kafka work when the file cannot be created, so the user fixes -o first. */
    static void checkWritable(Path output) {
        if (Files.isDirectory(output)) {
            throw new UserInputException("-o " + output + " is a directory; name the pcap file to write");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new UserInputException("-o " + output + ": directory " + parent + " does not exist");
        }
        if (Files.exists(output) && !Files.isWritable(output) || !Files.isWritable(parent)) {
            throw new UserInputException("-o " + output + ": permission denied");
        }
    }

    private static PcapWriter open(Path output) {
        try {
            return new PcapWriter(Files.newOutputStream(output));
        } catch (IOException e) {
            throw new UserInputException("-o " + output + ": cannot write: " + e.getMessage(), e);
        }
    }
}
