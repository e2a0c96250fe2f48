package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.KafkaErrors;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Checks before a replay that the broker answers and the topic exists, so a typo fails fast with one line. */
public final class TopicCheck {
    private TopicCheck() {
    }

    /** Returns the topic's partition count, or throws a {@link UserInputException} that names the fix. */
    public static int partitions(Properties consumerConfig, String topic, Duration wait) {
        String servers = String.valueOf(consumerConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        Properties p = new Properties();
        for (String name : AdminClientConfig.configNames()) {
            if (consumerConfig.containsKey(name)) {
                p.put(name, consumerConfig.get(name));
            }
        }
        int waitMs = (int) Math.max(1000, wait.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, waitMs);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(waitMs, 5000));
        p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "trafficbus-replay-check");
        Admin admin;
        try {
            admin = Admin.create(p);
        } catch (KafkaException e) {
            throw new UserInputException("--bootstrap-servers '" + servers + "' is not usable: " + rootMessage(e), e);
        }
        try {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(waitMs + 1000L, TimeUnit.MILLISECONDS).get(topic);
            return d.partitions().size();
        } catch (ExecutionException e) {
            KafkaErrors.throwIfRefused(e, AclOperation.DESCRIBE, topic);
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new UserInputException("topic " + topic
                        + " does not exist; forward something first or check --bootstrap-servers", e);
            }
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(servers, waitMs, e);
            }
            throw new UserInputException("cannot describe topic " + topic + " at " + servers + ": "
                    + rootMessage(e), e);
        } catch (TimeoutException e) {
            throw unreachable(servers, waitMs, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while checking topic " + topic, e);
        } finally {
            admin.close(Duration.ofSeconds(1));
        }
    }

    private static UserInputException unreachable(String servers, int waitMs, Exception e) {
        return new UserInputException("no Kafka broker answered at " + servers + " within " + (waitMs / 1000)
                + " s; check --bootstrap-servers and that the broker runs", e);
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
