package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.UserInputException;

/** Checks before a replay that the broker answers and the topic exists, so a typo fails fast with one line. */
public final class TopicCheck {
    private TopicCheck() {
    }

    /** Returns the topic's partition count, or throws a {@link UserInputException} that names the fix. */
    public static int partitions(KafkaAdmin admin, String topic) {
        return admin.partitions(topic, "forward something first or check --bootstrap-servers");
    }
}
