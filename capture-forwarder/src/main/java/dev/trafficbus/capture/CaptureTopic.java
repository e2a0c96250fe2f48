package dev.trafficbus.capture;

import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicOptions;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.TopicState;
import dev.trafficbus.cli.UserInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Properties;

/**
 * Makes sure a capture topic exists with the asked settings and is served before publishing; doubles as the check
 * that the broker answers. An existing topic with other settings is used as it is, and the forwarder says so.
 */
public final class CaptureTopic {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureTopic.class);

    private CaptureTopic() {
    }

    /**
     * Creates the topic of {@code spec} unless it exists, waits until every partition's leader answers (at most
     * {@code timeout} in all) and returns it as described. Throws {@link UserInputException} when the broker cannot
     * be reached or refuses.
     */
    public static TopicState ensure(TopicSpec spec, Properties clientConfig, Duration timeout) {
        try (KafkaAdmin admin = KafkaAdmin.connect(clientConfig, timeout)) {
            TopicState state = admin.ensure(spec, TopicOptions.DEFAULT_PARTITIONS);
            String kept = state.keptLine(spec);
            if (kept != null) {
                LOG.warn(kept);
            }
            admin.awaitServed(spec.name());
            return state;
        }
    }
}
