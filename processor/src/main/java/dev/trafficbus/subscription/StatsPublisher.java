package dev.trafficbus.subscription;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Writes this instance's per-subscription counters to {@code tb.subscription-stats} every few seconds (and once
 * more at close) under {@code <subscription>@<instance>}, so {@code trafficbus subscriptions} can sum them over
 * instances without reaching any processor. Counters count since the instance started. It also logs them as one
 * status line every {@link #STATUS_INTERVAL}, so a service's log shows a stalled processor.
 */
final class StatsPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatsPublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration STATUS_INTERVAL = Duration.ofSeconds(10);

    private final ProcessorCounters counters;
    private final SubscriptionStore store;
    private final String instance;
    private final KafkaProducer<String, String> producer;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "trafficbus-stats");
        t.setDaemon(true);
        return t;
    });

    StatsPublisher(ProcessorCounters counters, SubscriptionStore store, String instance, Duration every) {
        this.counters = counters;
        this.store = store;
        this.instance = instance;
        this.producer = store.producer();
        timer.scheduleAtFixedRate(this::publishQuietly, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        timer.scheduleAtFixedRate(this::logStatus, STATUS_INTERVAL.toMillis(), STATUS_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void logStatus() {
        StringBuilder line = new StringBuilder("status:");
        Map<String, SubscriptionCounters> subs = counters.subscriptions();
        if (subs.isEmpty()) {
            line.append(" no subscriptions");
        }
        subs.forEach((name, c) -> line.append(' ').append(name).append(" [sessions ").append(c.sessionsIn())
                .append(" in, ").append(c.sessionsKept()).append(" kept, dropped ").append(c.droppedByReason())
                .append("; packets ").append(c.packetsIn()).append(" in, ").append(c.packetsOut()).append(" out in ")
                .append(c.recordsOut()).append(" records]"));
        LOG.info(line.toString());
    }

    private void publishQuietly() {
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.warn("could not publish subscription counters: {}", e.getMessage());
        }
    }

    synchronized void publish() {
        String now = Instant.now().toString();
        for (Map.Entry<String, SubscriptionCounters> e : counters.subscriptions().entrySet()) {
            store.putStats(producer, e.getKey() + "@" + instance, toJson(e.getKey(), e.getValue(), now));
        }
        producer.flush();
    }

    private String toJson(String name, SubscriptionCounters c, String now) {
        ObjectNode n = JSON.createObjectNode();
        n.put("subscription", name).put("instance", instance).put("updated", now)
                .put("packets_in", c.packetsIn()).put("packets_out", c.packetsOut()).put("records_out", c.recordsOut())
                .put("sessions_in", c.sessionsIn()).put("sessions_kept", c.sessionsKept())
                .put("fields_redacted", c.fieldsRedacted());
        ObjectNode dropped = n.putObject("sessions_dropped");
        c.droppedByReason().forEach(dropped::put);
        return n.toString();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.warn("could not publish the final subscription counters: {}", e.getMessage());
        }
        producer.close(Duration.ofSeconds(5));
    }
}
