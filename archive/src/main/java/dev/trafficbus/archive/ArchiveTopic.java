package dev.trafficbus.archive;

import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicState;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A topic read as an archive: a plain consumer without a group (nothing committed, nothing rebalanced), assigned
 * to every partition, with the checks that turn a typo or an unreachable broker into one line for the user.
 */
public final class ArchiveTopic {
    private ArchiveTopic() {
    }

    /** A byte-array consumer built from the user's client settings; it never creates topics and reads committed records. */
    public static KafkaConsumer<byte[], byte[]> openConsumer(Properties clientConfig, String clientId) {
        Properties p = new Properties();
        p.putAll(clientConfig);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        // Never jump silently: records deleted by retention while being read must surface, not vanish.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        // Transactional writers (a processor run with --exactly-once) leave aborted records behind: they were never
        // part of the stream and must not be exported or compared. The end offsets then stop at the last stable one.
        p.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        try {
            return new KafkaConsumer<>(p);
        } catch (KafkaException e) {
            throw new UserInputException("cannot create a Kafka consumer for " + p.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)
                    + ": " + rootMessage(e), e);
        }
    }

    /**
     * Every partition of {@code topic}, in partition order. A missing topic or a broker that does not answer
     * within default.api.timeout.ms is a {@link UserInputException}; {@code missingHint} ends the missing-topic line.
     */
    public static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic, String servers,
                                                  String missingHint) {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(topic);
        } catch (UnknownTopicOrPartitionException e) {
            infos = List.of();
        } catch (TimeoutException e) {
            throw KafkaAdmin.unreachable(servers, null, e);
        } catch (KafkaException e) {
            throw new UserInputException("cannot read topic " + topic + " at " + servers + ": " + rootMessage(e), e);
        }
        if (infos == null || infos.isEmpty()) {
            throw new UserInputException("topic " + topic + " does not exist at " + servers + "; " + missingHint);
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        partitions.sort(Comparator.comparingInt(TopicPartition::partition));
        return partitions;
    }

    /** The end offsets now: what "the whole topic" means for a reader that must finish. */
    public static Map<TopicPartition, Long> endOffsets(KafkaConsumer<?, ?> consumer, List<TopicPartition> partitions,
                                                       String servers) {
        try {
            return consumer.endOffsets(partitions);
        } catch (TimeoutException e) {
            throw new UserInputException("Kafka at " + servers + " did not tell the end offsets in time; is the broker healthy?", e);
        }
    }

    /**
     * True when the topic stamps its records with the broker's append time (message.timestamp.type=LogAppendTime):
     * its Kafka timestamps then say nothing about capture times and a time window cannot be found by seeking.
     * False when it uses the producer's time, or when the broker does not tell (no DescribeConfigs right).
     */
    public static boolean stampedAtAppend(Properties clientConfig, String topic) {
        try (KafkaAdmin admin = KafkaAdmin.connect(clientConfig, Duration.ofSeconds(30))) {
            TopicState state = admin.describe(topic);
            return state != null && "LogAppendTime".equals(state.value(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG));
        } catch (UserInputException e) {
            return false;
        }
    }

    /** The one line for records that retention deleted while a command was reading them. */
    public static UserInputException deletedWhileReading(String topic, Exception e) {
        return new UserInputException("Kafka deleted records of " + topic + " (retention) while they were being read: "
                + e.getMessage() + "; run again", e);
    }

    static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
