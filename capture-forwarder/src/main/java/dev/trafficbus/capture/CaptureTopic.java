package dev.trafficbus.capture;

import dev.trafficbus.cli.KafkaErrors;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicExistsException;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Makes sure a capture topic exists and is served before publishing; doubles as the check that the broker
 * answers. The wait matters: Kafka 4.3.1 can drop an idempotent producer's first batch to a partition the
 * broker is still creating (the retried batch is rejected as out of order until it times out), so nothing
 * is published before every partition's leader answers.
 */
public final class CaptureTopic {
    /** Partitions of a topic the forwarder creates; flows spread over them by key. */
    public static final int PARTITIONS = 6;

    private CaptureTopic() {
    }

    /**
     * Creates {@code topic} unless it exists and waits until every partition's leader answers, at most
     * {@code timeout} in all, and returns the record times the topic accepts (the broker's defaults when its
     * configuration may not be read). Throws {@link UserInputException} when the broker cannot be reached or refuses.
     */
    public static TimestampWindow ensure(String topic, Properties clientConfig, Duration timeout) {
        String servers = clientConfig.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
        Properties adminConfig = new Properties();
        // Only the keys Admin knows, so producer settings do not turn into "unknown config" warnings.
        for (String name : clientConfig.stringPropertyNames()) {
            if (AdminClientConfig.configNames().contains(name)) {
                adminConfig.put(name, clientConfig.getProperty(name));
            }
        }
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(millis));
        adminConfig.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(millis));
        Admin admin;
        try {
            admin = Admin.create(adminConfig);
        } catch (KafkaException e) {
            throw new UserInputException("cannot use Kafka at " + servers + ": " + rootMessage(e), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (admin) {
            create(admin, topic, millis);
            while (!served(admin, topic)) {
                if (System.nanoTime() > deadline) {
                    throw new UserInputException("Kafka at " + servers + " did not serve every partition of "
                            + topic + " within " + timeout.toSeconds() + " s; check the broker's health");
                }
                Thread.sleep(50);
            }
            return timestampWindow(admin, topic);
        } catch (ExecutionException e) {
            KafkaErrors.throwIfRefused(e, AclOperation.CREATE, topic);
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(servers, timeout, e.getCause());
            }
            throw new UserInputException("cannot create topic " + topic + " on " + servers + ": "
                    + rootMessage(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw unreachable(servers, timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while connecting to Kafka at " + servers, e);
        }
    }

    private static void create(Admin admin, String topic, int millis)
            throws ExecutionException, InterruptedException, TimeoutException {
        try {
            NewTopic newTopic = new NewTopic(topic, Optional.of(PARTITIONS), Optional.empty());
            admin.createTopics(List.of(newTopic)).all().get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    /** The topic's effective timestamp bounds; a principal that may not describe its configs gets the defaults. */
    private static TimestampWindow timestampWindow(Admin admin, String topic) throws InterruptedException {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            Config config = admin.describeConfigs(List.of(resource)).all().get(5, TimeUnit.SECONDS).get(resource);
            return config == null ? TimestampWindow.BROKER_DEFAULTS : TimestampWindow.of(config);
        } catch (ExecutionException | TimeoutException e) {
            return TimestampWindow.BROKER_DEFAULTS;
        }
    }

    /** A partition's leader answers ListOffsets only once it has applied the partition's creation. */
    private static boolean served(Admin admin, String topic) throws InterruptedException {
        try {
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(5, TimeUnit.SECONDS).get(topic);
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (TopicPartitionInfo p : description.partitions()) {
                if (p.leader() == null || p.leader().isEmpty()) {
                    return false;
                }
                request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            }
            admin.listOffsets(request).all().get(5, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private static UserInputException unreachable(String servers, Duration timeout, Throwable cause) {
        return new UserInputException("cannot reach Kafka at " + servers + " within " + timeout.toSeconds()
                + " s; check --bootstrap-servers and that the broker is up", cause);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
