package dev.trafficbus.access;

import dev.trafficbus.bus.ConsumerGroups;
import dev.trafficbus.bus.Topics;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The Kafka ACLs each part of the bus needs, built from the topic and group names the bus declares
 * ({@link Topics}, {@link ConsumerGroups}): what {@code subscribe} grants a subscription's readers, and what
 * {@code trafficbus acls} prints or applies for a role. Every binding allows; nothing here denies.
 */
public final class AccessRules {
    /** The roles {@code trafficbus acls} knows. */
    public enum Role {
        /** Publishes one source's capture topic. */
        FORWARDER,
        /** Reads every capture topic, writes subscription topics, dead letters, stats and its Streams topics. */
        PROCESSOR,
        /** A team's replayer: its run ledgers, its response topics and its own consumer groups. */
        REPLAYER,
        /** Runs subscribe/unsubscribe (which grant ACLs), status and the topic settings. */
        ADMIN
    }

    /** The one name of the cluster resource in Kafka ACLs. */
    private static final String CLUSTER = "kafka-cluster";

    private AccessRules() {
    }

    /**
     * What {@code readers} of the subscription topic {@code topic} are granted: READ and DESCRIBE on the topic, READ
     * on the replayer's default group of that topic and on the groups prefixed {@code <reader>.}.
     */
    public static List<AclBinding> subscriptionReaders(String topic, Collection<String> readers) {
        Set<AclBinding> out = new LinkedHashSet<>();
        for (String reader : readers) {
            String principal = Principals.normalize(reader);
            out.add(allow(principal, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ));
            out.add(allow(principal, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.DESCRIBE));
            out.add(allow(principal, ResourceType.GROUP, ConsumerGroups.replayDefault(topic), PatternType.LITERAL,
                    AclOperation.READ));
            out.add(allow(principal, ResourceType.GROUP, ownPrefix(principal), PatternType.PREFIXED, AclOperation.READ));
        }
        return List.copyOf(out);
    }

    /**
     * The ACLs of {@code role} for {@code principal}. {@code source} names the forwarder's source id (required for
     * {@link Role#FORWARDER}), {@code applicationId} the processor's Streams application id.
     */
    public static List<AclBinding> forRole(Role role, String principal, String source, String applicationId) {
        String p = Principals.normalize(principal);
        List<AclBinding> out = new ArrayList<>();
        switch (role) {
            case FORWARDER -> {
                String topic = Topics.capture(source);
                topic(out, p, topic, PatternType.LITERAL, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                // The forwarder's producer is idempotent; brokers before 3.0 ask for this, later ones accept WRITE.
                out.add(allow(p, ResourceType.CLUSTER, CLUSTER, PatternType.LITERAL, AclOperation.IDEMPOTENT_WRITE));
            }
            case PROCESSOR -> {
                String app = applicationId == null || applicationId.isBlank() ? ConsumerGroups.PROCESSOR : applicationId;
                topic(out, p, Topics.CAPTURE_PREFIX, PatternType.PREFIXED, AclOperation.READ, AclOperation.DESCRIBE);
                topic(out, p, Topics.SUBSCRIPTION_PREFIX, PatternType.PREFIXED, AclOperation.WRITE, AclOperation.DESCRIBE,
                        AclOperation.CREATE);
                topic(out, p, Topics.SUBSCRIPTIONS, PatternType.LITERAL, AclOperation.READ, AclOperation.WRITE,
                        AclOperation.DESCRIBE, AclOperation.CREATE);
                for (String t : List.of(Topics.SUBSCRIPTION_STATS, Topics.DEADLETTER)) {
                    topic(out, p, t, PatternType.LITERAL, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                }
                // Kafka Streams: internal topics <app>-..., the group <app>, transactions <app>-... (--exactly-once);
                // ALTER adds changelog partitions when a wider capture topic appears.
                topic(out, p, app + "-", PatternType.PREFIXED, AclOperation.READ, AclOperation.WRITE,
                        AclOperation.DESCRIBE, AclOperation.CREATE, AclOperation.DELETE, AclOperation.DESCRIBE_CONFIGS,
                        AclOperation.ALTER);
                out.add(allow(p, ResourceType.GROUP, app, PatternType.LITERAL, AclOperation.READ));
                out.add(allow(p, ResourceType.GROUP, app, PatternType.LITERAL, AclOperation.DESCRIBE));
                out.add(allow(p, ResourceType.TRANSACTIONAL_ID, app + "-", PatternType.PREFIXED, AclOperation.WRITE));
                out.add(allow(p, ResourceType.TRANSACTIONAL_ID, app + "-", PatternType.PREFIXED, AclOperation.DESCRIBE));
                out.add(allow(p, ResourceType.CLUSTER, CLUSTER, PatternType.LITERAL, AclOperation.IDEMPOTENT_WRITE));
            }
            case REPLAYER -> {
                String own = ownPrefix(p);
                // Run ids named <user>.<anything> keep their response topics readable by their team only.
                topic(out, p, Topics.RESPONSES_PREFIX + own, PatternType.PREFIXED, AclOperation.READ,
                        AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                // The first run of a bus creates the compacted topic of run ledgers.
                topic(out, p, Topics.RUNS, PatternType.LITERAL, AclOperation.WRITE, AclOperation.DESCRIBE,
                        AclOperation.CREATE);
                out.add(allow(p, ResourceType.GROUP, own, PatternType.PREFIXED, AclOperation.READ));
            }
            case ADMIN -> {
                out.add(allow(p, ResourceType.CLUSTER, CLUSTER, PatternType.LITERAL, AclOperation.ALL));
                topic(out, p, Topics.PREFIX, PatternType.PREFIXED, AclOperation.ALL);
                out.add(allow(p, ResourceType.GROUP, ResourcePattern.WILDCARD_RESOURCE, PatternType.LITERAL,
                        AclOperation.DESCRIBE));
            }
        }
        return List.copyOf(out);
    }

    /** The group and run-id prefix that belongs to a principal's team: {@code <user>.}. */
    public static String ownPrefix(String principal) {
        return Principals.userName(principal) + ".";
    }

    private static void topic(List<AclBinding> out, String principal, String name, PatternType type, AclOperation... ops) {
        for (AclOperation op : ops) {
            out.add(allow(principal, ResourceType.TOPIC, name, type, op));
        }
    }

    private static AclBinding allow(String principal, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }
}
