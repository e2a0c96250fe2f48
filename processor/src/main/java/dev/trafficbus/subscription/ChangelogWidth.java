package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.UserInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Keeps the processor's changelog topics as wide as its widest capture topic. Kafka Streams runs one task per
 * partition number of the capture topics (the widest one decides) and wants exactly one changelog partition per
 * task: a wider capture topic appearing later made it refuse the assignment ("internal topic ... has invalid
 * partitions") and replace its thread, forever. Growing a changelog keeps every task's state where it is (task i
 * restores from partition i and still reads partition i of each capture topic); the new tasks start empty, as the
 * capture partitions they read are new.
 */
final class ChangelogWidth implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChangelogWidth.class);
    /** Well below the processor's metadata.max.age.ms, so a new capture topic is mostly met by a wide changelog. */
    static final Duration INTERVAL = Duration.ofMillis(500);

    private final String applicationId;
    private final Pattern changelogNames;
    private final KafkaAdmin admin;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "trafficbus-changelog-width");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean refusalLogged;

    ChangelogWidth(Properties kafka, String applicationId) {
        this.applicationId = applicationId;
        this.changelogNames = Pattern.compile(Pattern.quote(applicationId + "-") + ".*-changelog");
        this.admin = KafkaAdmin.connect(kafka, Duration.ofSeconds(10));
    }

    /** Checks now and then every {@link #INTERVAL}. */
    ChangelogWidth start() {
        check();
        timer.scheduleWithFixedDelay(this::checkQuietly, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** The changelog topics of the processor's stores (Kafka Streams names them {@code <app>-<store>-changelog}). */
    List<String> changelogs() {
        return List.of(applicationId + "-" + SubscriptionProcessor.SESSION_STORE + "-changelog",
                applicationId + "-" + SubscriptionProcessor.HELD_STORE + "-changelog");
    }

    /** Grows the existing changelogs that are narrower than the widest capture topic; returns that width (0: none). */
    synchronized int check() {
        int widest = admin.partitionCounts(Topics.CAPTURES).values().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (widest == 0) {
            return 0;
        }
        // A changelog not created yet is created by Kafka Streams as wide as needed.
        for (Map.Entry<String, Integer> c : admin.partitionCounts(changelogNames).entrySet()) {
            if (changelogs().contains(c.getKey()) && c.getValue() < widest && admin.growTo(c.getKey(), widest)) {
                LOG.info("a capture topic of {} partitions appeared: {} grown from {} to {} partitions", widest,
                        c.getKey(), c.getValue(), widest);
            }
        }
        return widest;
    }

    /** True when {@code error} is Kafka Streams refusing a changelog of another width than its tasks. */
    static boolean isWidthRefusal(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("has invalid partitions")) {
                return true;
            }
        }
        return false;
    }

    private void checkQuietly() {
        try {
            check();
        } catch (UserInputException e) {
            // A broker away for a moment is retried on the next tick; a missing ACL is said once.
            if (e.getMessage().startsWith("Kafka denied") && !refusalLogged) {
                refusalLogged = true;
                LOG.warn("cannot keep the changelog topics as wide as the capture topics: {}", e.getMessage());
            } else {
                LOG.debug("changelog width check failed: {}", e.getMessage());
            }
        } catch (RuntimeException e) {
            LOG.warn("changelog width check failed", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        admin.close();
    }
}
