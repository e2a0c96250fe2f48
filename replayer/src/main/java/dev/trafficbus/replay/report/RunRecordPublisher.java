package dev.trafficbus.replay.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Publishes a run's final ledger to the compacted topic {@value Topics#RUNS} (key = run id), where {@code status}
 * finds the latest runs. Best effort: a failure is returned as a reason, never thrown.
 */
public final class RunRecordPublisher {
    private static final long WAIT_SECONDS = 10;

    private RunRecordPublisher() {
    }

    /**
     * Publishes {@code ledger} under {@code runId} with a producer for {@code clientConfig}, creating the topic with
     * {@code admin} where it is missing; returns null on success, else why it failed.
     */
    public static String publish(KafkaAdmin admin, Properties clientConfig, String runId, Map<String, Object> ledger) {
        String created;
        try {
            createTopic(admin);
            created = null;
        } catch (UserInputException e) {
            // Perhaps only creating topics is not allowed and the topic exists: try to publish anyway.
            created = "cannot create it (" + e.getMessage() + ")";
        }
        try {
            Properties p = new Properties();
            p.putAll(clientConfig);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "trafficbus-replay-run");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(WAIT_SECONDS * 1000));
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(WAIT_SECONDS * 1000));
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(WAIT_SECONDS * 1000 - 1000));
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                byte[] value = new ObjectMapper().writeValueAsBytes(ledger);
                producer.send(new ProducerRecord<>(Topics.RUNS, runId.getBytes(StandardCharsets.UTF_8), value))
                        .get(WAIT_SECONDS + 2, TimeUnit.SECONDS);
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            return c.getClass().getSimpleName() + ": " + c.getMessage() + (created == null ? "" : "; " + created);
        }
    }

    private static void createTopic(KafkaAdmin admin) {
        admin.ensure(TopicSpec.of(Topics.RUNS, 1)
                .with(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT), 1);
    }
}
