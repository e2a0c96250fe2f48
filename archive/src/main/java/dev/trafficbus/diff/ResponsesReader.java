package dev.trafficbus.diff;

import dev.trafficbus.archive.ArchiveTopic;
import dev.trafficbus.cli.ProgressDisplay;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/** Reads a whole responses topic (up to its end offsets at start), compares each pair and counts the results. */
public final class ResponsesReader {
    /** How long the broker may deliver nothing while records remain before the diff gives up. */
    private static final Duration STALL_LIMIT = Duration.ofSeconds(30);

    private final Properties clientConfig;
    private final String topic;
    private final String run;
    private final PairComparison comparison;
    private final ProgressDisplay progress;

    /** @param run only records of this run id count; others on the topic are counted as other-run */
    public ResponsesReader(Properties clientConfig, String topic, String run, PairComparison comparison,
                           ProgressDisplay progress) {
        this.clientConfig = clientConfig;
        this.topic = topic;
        this.run = run;
        this.comparison = comparison;
        this.progress = progress;
    }

    /** Reads, compares and counts into {@code tally}; a missing topic or unreachable broker is a {@link UserInputException}. */
    public DiffTally read(DiffTally tally) {
        String servers = String.valueOf(clientConfig.get("bootstrap.servers"));
        long start = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = ArchiveTopic.openConsumer(clientConfig, "trafficbus-diff")) {
            List<TopicPartition> partitions = ArchiveTopic.partitions(consumer, topic, servers,
                    "was the run replayed with --capture-responses? (check --run and --responses-topic)");
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = ArchiveTopic.endOffsets(consumer, partitions, servers);
            long total = 0;
            for (TopicPartition tp : partitions) {
                total += end.get(tp) - consumer.position(tp);
            }
            Set<String> seen = new HashSet<>();
            long lastProgress = System.nanoTime();
            while (!done(consumer, partitions, end)) {
                boolean advanced = false;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
                        continue;
                    }
                    advanced = true;
                    handle(r.value(), tally, seen);
                }
                long now = System.nanoTime();
                if (advanced) {
                    lastProgress = now;
                } else if (now - lastProgress > STALL_LIMIT.toNanos()) {
                    throw new UserInputException("Kafka delivered nothing from " + topic + " for " + STALL_LIMIT.toSeconds()
                            + " s although " + (total - tally.recordsRead()) + " records remain; is the broker healthy?");
                }
                showProgress(tally.recordsRead(), total, start);
            }
            return tally;
        } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
            throw ArchiveTopic.deletedWhileReading(topic, e);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw KafkaAdmin.unreachable(servers, null, e);
        } finally {
            progress.finish();
        }
    }

    private void handle(byte[] value, DiffTally tally, Set<String> seen) {
        tally.countRead();
        ResponseRecord record;
        try {
            record = ResponseRecord.parse(value);
        } catch (IllegalArgumentException e) {
            tally.countUndecodable(e.getMessage());
            return;
        }
        if (record.run() != null && !record.run().equals(run)) {
            tally.countOtherRun();
            return;
        }
        if (!seen.add(record.session() + '\u0000' + record.index())) {
            tally.countDuplicate();
            return;
        }
        tally.add(record, comparison.compare(record));
    }

    /** Position, not the last offset seen: transaction markers leave gaps before the end. */
    private static boolean done(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions,
                                Map<TopicPartition, Long> end) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp) < end.get(tp)) {
                return false;
            }
        }
        return true;
    }

    private void showProgress(long done, long total, long start) {
        if (progress.enabled()) {
            double seconds = (System.nanoTime() - start) / 1e9;
            double rate = seconds > 0 ? done / seconds : 0;
            progress.update(done, total, String.format(Locale.ROOT, "%d/%d records, %.0f/s, ETA %s", done, total, rate,
                    ProgressDisplay.eta(rate > 0 ? (total - done) / rate : Double.NaN)));
        }
    }
}
