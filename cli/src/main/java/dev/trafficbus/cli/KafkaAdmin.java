package dev.trafficbus.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;

import java.time.Duration;
import java.util.Properties;

/**
 * Builds the admin client of a command from its client settings: only the keys an admin client knows (producer or
 * consumer settings in --kafka-config would be logged as unknown), the command's timeout, and settings Kafka refuses
 * reported as a user error.
 */
public final class KafkaAdmin {
    private KafkaAdmin() {
    }

    /** An admin client for the brokers and security settings of {@code clientConfig}, each call bounded by {@code timeout}. */
    public static Admin open(Properties clientConfig, Duration timeout) {
        Properties p = new Properties();
        for (String name : clientConfig.stringPropertyNames()) {
            if (AdminClientConfig.configNames().contains(name)) {
                p.put(name, clientConfig.getProperty(name));
            }
        }
        int millis = (int) Math.max(1000, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(millis));
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(Math.min(millis, 30_000)));
        try {
            return Admin.create(p);
        } catch (KafkaException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UserInputException("Kafka client settings refused: " + cause.getMessage(), e);
        }
    }

    /** The one message for brokers that did not answer in time. */
    public static UserInputException unreachable(Properties clientConfig, Duration timeout, Throwable cause) {
        return new UserInputException("no Kafka broker answered at " + clientConfig.getProperty("bootstrap.servers")
                + " within " + timeout.toSeconds() + " s; check --bootstrap-servers and that the broker runs", cause);
    }
}
