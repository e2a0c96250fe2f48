package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.UserInputException;

import java.time.Duration;
import java.util.Properties;

/** Checks before a replay that the broker answers and the topic exists, so a typo fails fast with one line. */
public final class TopicCheck {
    private TopicCheck() {
    }

    /** Returns the topic's partition count, or throws a {@link UserInputException} that names the fix. */
    public static int partitions(Properties consumerConfig, String topic, Duration wait) {
        try (KafkaAdmin admin = KafkaAdmin.connect(consumerConfig, wait)) {
            return admin.partitions(topic, "forward something first or check --bootstrap-servers");
        }
    }
}
