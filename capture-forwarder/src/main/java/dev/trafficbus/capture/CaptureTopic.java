package dev.trafficbus.capture;

import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicExistsException;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Makes sure a capture topic exists before publishing; doubles as the check that the broker answers. */
public final class CaptureTopic {
    /** Partitions of a topic the forwarder creates; flows spread over them by key. */
    public static final int PARTITIONS = 6;

    private CaptureTopic() {
    }

    /**
     * Creates {@code topic} unless it exists, waiting at most {@code timeout}. Throws
     * {@link UserInputException} when the broker cannot be reached or refuses.
     */
    public static void ensure(String topic, Properties clientConfig, Duration timeout) {
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
        try (admin) {
            NewTopic newTopic = new NewTopic(topic, Optional.of(PARTITIONS), Optional.empty());
            admin.createTopics(List.of(newTopic)).all().get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return;
            }
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
