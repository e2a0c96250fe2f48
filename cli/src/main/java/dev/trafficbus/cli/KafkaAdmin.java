package dev.trafficbus.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The one Kafka admin client of every command: built from the command's client settings (only the keys an admin
 * client knows: producer or consumer settings in --kafka-config would be logged as unknown), each call bounded by
 * the command's timeout; creates, describes and checks topics, and turns what Kafka answers instead (no broker,
 * a refusal, a bad setting) into one line for the user.
 */
public final class KafkaAdmin implements AutoCloseable {
    /** Replicas a topic gets when the command is not told: as many as fit, at most 3. */
    public static final int MAX_DEFAULT_REPLICATION = 3;

    private final Admin admin;
    private final Properties clientConfig;
    private final Duration timeout;
    private int brokers = -1;

    private KafkaAdmin(Admin admin, Properties clientConfig, Duration timeout) {
        this.admin = admin;
        this.clientConfig = clientConfig;
        this.timeout = timeout;
    }

    /** An admin for the brokers and security settings of {@code clientConfig}, each call bounded by {@code timeout}. */
    public static KafkaAdmin connect(Properties clientConfig, Duration timeout) {
        return new KafkaAdmin(open(clientConfig, timeout), clientConfig, timeout);
    }

    /** A bare admin client, for calls this class does not make (ACLs, groups, offsets); same settings as {@link #connect}. */
    public static Admin open(Properties clientConfig, Duration timeout) {
        try {
            return Admin.create(adminConfig(clientConfig, timeout));
        } catch (KafkaException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UserInputException("Kafka client settings refused: " + cause.getMessage(), e);
        }
    }

    /** The admin client settings of a command's client settings: the keys Admin knows, and the command's timeout. */
    public static Properties adminConfig(Properties clientConfig, Duration timeout) {
        Properties p = new Properties();
        for (String name : clientConfig.stringPropertyNames()) {
            if (AdminClientConfig.configNames().contains(name)) {
                p.put(name, clientConfig.getProperty(name));
            }
        }
        int millis = (int) Math.max(1000, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(millis));
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(Math.min(millis, 30_000)));
        return p;
    }

    /** The one message for brokers that did not answer in time. */
    public static UserInputException unreachable(Properties clientConfig, Duration timeout, Throwable cause) {
        return unreachable(clientConfig.getProperty("bootstrap.servers"), timeout, cause);
    }

    /** The one message for brokers at {@code servers} that did not answer within {@code timeout} (null: Kafka's own wait). */
    public static UserInputException unreachable(String servers, Duration timeout, Throwable cause) {
        return new UserInputException("no Kafka broker answered at " + servers
                + (timeout == null ? "" : " within " + timeout.toSeconds() + " s")
                + "; check --bootstrap-servers and that the broker runs", cause);
    }

    /** The same for a client whose wait is Kafka's own (a consumer's default.api.timeout.ms). */
    public static UserInputException unreachable(Properties clientConfig, Throwable cause) {
        return unreachable(clientConfig, null, cause);
    }

    /** The admin client itself, for calls this class does not make. */
    public Admin admin() {
        return admin;
    }

    /**
     * Waits for {@code future}: a refusal becomes the one-line refusal naming {@code operation} on {@code topic}
     * (null: none named), no answer in time the unreachable line, any other failure a line naming what was asked.
     */
    public <T> T get(KafkaFuture<T> future, AclOperation operation, String topic, String what) {
        return get(future, operation, topic, what, cause -> false, null);
    }

    /**
     * Like {@link #get(KafkaFuture, AclOperation, String, String)}, but a failure whose cause {@code expected}
     * accepts is an answer: {@code ifExpected} is returned instead.
     */
    private <T> T get(KafkaFuture<T> future, AclOperation operation, String topic, String what,
                      java.util.function.Predicate<Throwable> expected, T ifExpected) {
        try {
            return future.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (expected.test(e.getCause())) {
                return ifExpected;
            }
            throw failure(e.getCause(), operation, topic, what);
        } catch (TimeoutException e) {
            throw unreachable(clientConfig, timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while Kafka was asked to " + what, e);
        }
    }

    private UserInputException failure(Throwable cause, AclOperation operation, String topic, String what) {
        KafkaErrors.throwIfRefused(cause, operation, topic);
        if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
            return unreachable(clientConfig, timeout, cause);
        }
        return new UserInputException("Kafka at " + clientConfig.getProperty("bootstrap.servers") + " could not "
                + what + ": " + cause.getMessage(), cause);
    }

    /** Brokers of the cluster (asked once). */
    public int brokers() {
        if (brokers < 0) {
            brokers = get(admin.describeCluster().nodes(), null, null, "describe the cluster").size();
        }
        return brokers;
    }

    /** The replication of a topic created without --replication-factor: min(3, brokers). */
    public static int defaultReplication(int brokers) {
        return Math.max(1, Math.min(MAX_DEFAULT_REPLICATION, brokers));
    }

    /** The replication factor {@code spec} asks for on this cluster. */
    public int replication(TopicSpec spec) {
        return spec.replicationFactor() > 0 ? spec.replicationFactor() : defaultReplication(brokers());
    }

    /**
     * Creates the topic of {@code spec} unless it exists ({@code defaultPartitions} when the spec names none) and
     * returns it as described; an existing topic keeps its settings ({@link TopicState#keptLine} says how they differ).
     */
    public TopicState ensure(TopicSpec spec, int defaultPartitions) {
        int replication = replication(spec);
        if (replication > brokers()) {
            throw new UserInputException("cannot create topic " + spec.name() + " with replication factor "
                    + replication + ": the cluster at " + clientConfig.getProperty("bootstrap.servers") + " has "
                    + brokers() + " broker(s); give --replication-factor at most " + brokers());
        }
        int partitions = spec.partitions() > 0 ? spec.partitions() : defaultPartitions;
        NewTopic topic = new NewTopic(spec.name(), Optional.of(partitions), Optional.of((short) replication))
                .configs(spec.configs());
        KafkaFuture<Void> creation = admin.createTopics(List.of(topic)).all();
        boolean created = get(creation.thenApply(v -> true), AclOperation.CREATE, spec.name(),
                "create topic " + spec.name(), cause -> cause instanceof TopicExistsException, false);
        TopicState state = describe(spec.name());
        // A topic just created may take a moment to reach the metadata of the broker asked.
        long deadline = System.nanoTime() + timeout.toNanos();
        while (state == null && System.nanoTime() < deadline) {
            pause();
            state = describe(spec.name());
        }
        if (state == null) {
            throw new UserInputException("topic " + spec.name() + " was created but Kafka at "
                    + clientConfig.getProperty("bootstrap.servers") + " does not describe it within "
                    + timeout.toSeconds() + " s; check the brokers' health");
        }
        return created ? new TopicState(state.name(), state.partitions(), state.replicationFactor(), state.config(), true)
                : state;
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while waiting for Kafka", e);
        }
    }

    /** The topic as described (its configs null when the principal may not describe them), or null when it does not exist. */
    public TopicState describe(String topic) {
        return describe(List.of(topic)).get(topic);
    }

    /** The topics that exist of {@code topics}, by name. */
    public Map<String, TopicState> describe(Collection<String> topics) {
        return describe(topics, true);
    }

    private Map<String, TopicState> describe(Collection<String> topics, boolean withConfigs) {
        Map<String, TopicState> out = new TreeMap<>();
        if (topics.isEmpty()) {
            return out;
        }
        Map<String, TopicDescription> described = new HashMap<>();
        admin.describeTopics(topics).topicNameValues().forEach((name, future) -> {
            TopicDescription d = get(future, AclOperation.DESCRIBE, name, "describe topic " + name,
                    cause -> cause instanceof UnknownTopicOrPartitionException, null);
            if (d != null) {
                described.put(name, d);
            }
        });
        Map<String, Config> configs = withConfigs ? configs(described.keySet()) : Map.of();
        for (TopicDescription d : described.values()) {
            List<TopicPartitionInfo> parts = d.partitions();
            int replicas = parts.isEmpty() ? 0 : parts.get(0).replicas().size();
            out.put(d.name(), new TopicState(d.name(), parts.size(), replicas, configs.get(d.name()), false));
        }
        return out;
    }

    /** Effective configs by topic; a topic whose configs may not be described is left out. */
    private Map<String, Config> configs(Collection<String> topics) {
        Map<String, Config> out = new HashMap<>();
        List<ConfigResource> resources = new ArrayList<>();
        topics.forEach(t -> resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t)));
        if (resources.isEmpty()) {
            return out;
        }
        admin.describeConfigs(resources).values().forEach((resource, future) -> {
            try {
                out.put(resource.name(), future.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS));
            } catch (ExecutionException | TimeoutException e) {
                // Without DESCRIBE_CONFIGS the topic is still usable; its settings are shown as unknown.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return out;
    }

    /** Partition counts of the topics whose names match {@code names} (those the principal may describe). */
    public Map<String, Integer> partitionCounts(Pattern names) {
        List<String> matching = new ArrayList<>();
        for (String t : get(admin.listTopics().names(), AclOperation.DESCRIBE, null, "list topics")) {
            if (names.matcher(t).matches()) {
                matching.add(t);
            }
        }
        Map<String, Integer> out = new TreeMap<>();
        if (!matching.isEmpty()) {
            get(admin.describeTopics(matching).allTopicNames(), AclOperation.DESCRIBE, null, "describe topics")
                    .forEach((name, d) -> out.put(name, d.partitions().size()));
        }
        return out;
    }

    /**
     * Adds partitions to {@code topic} until it has {@code partitions}; true when it had fewer. Records already in it
     * stay where they are, so only a topic whose partitions are not chosen by key may grow (e.g. a changelog whose
     * tasks grow with it).
     */
    public boolean growTo(String topic, int partitions) {
        // InvalidPartitions: already as wide or wider (another instance grew it first).
        return get(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions))).all().thenApply(v -> true),
                AclOperation.ALTER, topic, "add partitions to " + topic,
                cause -> cause instanceof InvalidPartitionsException, false);
    }

    /** The partition count of a topic that must exist; {@code missingHint} ends the line for a missing one. */
    public int partitions(String topic, String missingHint) {
        TopicState state = describe(List.of(topic), false).get(topic);
        if (state == null) {
            throw new UserInputException("topic " + topic + " does not exist at "
                    + clientConfig.getProperty("bootstrap.servers") + "; " + missingHint);
        }
        return state.partitions();
    }

    /**
     * Waits until every partition's leader of {@code topic} answers, at most the command's timeout. Kafka 4.3.1 can
     * drop an idempotent producer's first batch to a partition the broker is still creating (the retried batch is
     * rejected as out of order until it times out), so nothing is published before.
     */
    public void awaitServed(String topic) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!served(topic)) {
                if (System.nanoTime() > deadline) {
                    throw new UserInputException("Kafka at " + clientConfig.getProperty("bootstrap.servers")
                            + " did not serve every partition of " + topic + " within " + timeout.toSeconds()
                            + " s; check the brokers' health");
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while waiting for topic " + topic, e);
        }
    }

    /** A partition's leader answers ListOffsets only once it has applied the partition's creation. */
    private boolean served(String topic) throws InterruptedException {
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
            KafkaErrors.throwIfRefused(e, AclOperation.DESCRIBE, topic);
            return false;
        }
    }

    @Override
    public void close() {
        // Bounded: a call still in flight after its timeout must not hold the command.
        admin.close(Duration.ofSeconds(5));
    }
}
