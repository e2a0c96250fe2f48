package dev.trafficbus.export;

import dev.trafficbus.archive.ArchiveTopic;
import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.ProgressDisplay;
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
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * Reads a capture topic between two capture times and writes its packets to a pcap file in capture-time order:
 * every partition is sought by timestamp, read up to the window's end (or the end offsets at start), and the
 * partitions are merged by {@link TimestampMerge}.
 */
public final class PcapExporter {
    private static final Logger log = LoggerFactory.getLogger(PcapExporter.class);
    /** Records a partition may hold in memory before it is paused. */
    private static final int MAX_BUFFERED = 5_000;
    /** Packet bytes all partitions together may hold before they are paused (shared out per partition, 1 MB at least). */
    private static final long MAX_BUFFERED_BYTES = 64L << 20;
    /**
     * How far past the window's end records are read. A processor holds a session's first packets until its request
     * head arrives (up to its --held-timeout, 30 s by default) and then publishes them after packets captured later,
     * so in a subscription topic records of the window can follow the first one stamped after its end. The extra
     * records read are counted as outside the window.
     */
    static final Duration LATE_RECORDS = Duration.ofSeconds(60);
    /** How long the broker may deliver nothing while partitions still have records before the export gives up. */
    private static final Duration STALL_LIMIT = Duration.ofSeconds(30);

    private final Properties clientConfig;
    private final String topic;
    private final TimeWindow window;
    private final Path output;
    private final ProgressDisplay progress;
    private final BooleanSupplier stopRequested;

    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final EnumMap<ExportSkipReason, Long> skipped = new EnumMap<>(ExportSkipReason.class);
    private long recordsRead;
    private long outsideWindow;

    /**
     * @param clientConfig  Kafka client settings, bootstrap.servers included
     * @param stopRequested checked between polls: when true the export writes what it merged so far and ends
     */
    public PcapExporter(Properties clientConfig, String topic, TimeWindow window, Path output, ProgressDisplay progress,
                        BooleanSupplier stopRequested) {
        this.clientConfig = clientConfig;
        this.topic = topic;
        this.window = window;
        this.output = output;
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
            try (PcapWriter writer = open(output)) {
                boolean stopped = copy(consumer, partitions, begin, end, writer, start);
                writer.close();
                return new ExportSummary(topic, output, window, recordsRead, writer.packets(), outsideWindow,
                        labels(), writer.bytes(), (System.nanoTime() - start) / 1e9, stopped);
            } catch (IOException e) {
                throw new UserInputException("writing " + output + " failed: " + e.getMessage(), e);
            }
        } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
            throw ArchiveTopic.deletedWhileReading(topic, e);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new UserInputException("Kafka at " + servers + " did not answer in time (" + e.getMessage()
                    + "); check that the broker runs", e);
        } finally {
            progress.finish();
        }
    }

    /** Merges and writes; true when a stop request ended it early. */
    private boolean copy(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions,
                         Map<TopicPartition, Long> begin, Map<TopicPartition, Long> end, PcapWriter writer,
                         long startNanos) throws IOException {
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
        while (!merge.drained()) {
            writeReady(merge, writer);
            if (merge.drained()) {
                break;
            }
            if (stopRequested.getAsBoolean()) {
                // What was read is written: every partition's unread records are later than what the merge already
                // emitted, so the buffered ones still go out in time order and the counters add up.
                for (int i = 0; i < n; i++) {
                    merge.finish(i);
                }
                writeReady(merge, writer);
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

    /** Writes every packet the merge can release now. */
    private static void writeReady(TimestampMerge merge, PcapWriter writer) throws IOException {
        for (TimestampMerge.Entry e = merge.poll(); e != null; e = merge.poll()) {
            writer.write(e.timestampMicros(), e.clientToServer(), e.value(), e.offset(), e.length(), e.originalLength());
        }
    }

    /** The packet as a merge entry, or null when it is counted as outside the window or skipped. */
    private TimestampMerge.Entry decode(byte[] value) {
        try {
            reader.read(value);
        } catch (IllegalArgumentException e) {
            skip(ExportSkipReason.UNDECODABLE);
            return null;
        }
        long ts = reader.timestampMicros();
        if (!window.contains(ts)) {
            outsideWindow++;
            return null;
        }
        int len = reader.packetLength();
        int version = len > 0 ? (value[reader.packetOffset()] & 0xF0) >>> 4 : 0;
        if (version != 4 && version != 6) {
            skip(ExportSkipReason.NOT_IP);
            return null;
        }
        if (!PcapWriter.representable(ts)) {
            skip(ExportSkipReason.BAD_TIMESTAMP);
            return null;
        }
        return new TimestampMerge.Entry(ts, reader.direction() == Direction.CLIENT_TO_SERVER, value,
                reader.packetOffset(), len, reader.originalLength());
    }

    private void skip(ExportSkipReason reason) {
        skipped.merge(reason, 1L, Long::sum);
    }

    private Map<String, Long> labels() {
        Map<String, Long> m = new LinkedHashMap<>();
        skipped.forEach((r, v) -> m.put(r.label(), v));
        return m;
    }

    private void showProgress(long total, long startNanos, long written) {
        if (!progress.enabled()) {
            return;
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = seconds > 0 ? recordsRead / seconds : 0;
        double eta = rate > 0 ? (total - recordsRead) / rate : Double.NaN;
        progress.update(recordsRead, total, String.format(Locale.ROOT, "%d/%d records, %d written, %.0f/s, ETA %s",
                recordsRead, total, written, rate, ProgressDisplay.eta(eta)));
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

    /** The beginning, or the first offset stamped at or after the window's start (none: nothing to read). */
    private Map<TopicPartition, Long> startOffsets(KafkaConsumer<byte[], byte[]> consumer,
                                                   List<TopicPartition> partitions, Map<TopicPartition, Long> end,
                                                   boolean seekByTime) {
        if (!seekByTime || !window.hasFrom()) {
            return consumer.beginningOffsets(partitions);
        }
        Map<TopicPartition, OffsetAndTimestamp> found = offsetsForTime(consumer, partitions, window.fromMillis());
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
