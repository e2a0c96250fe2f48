package dev.trafficbus.acls;

import dev.trafficbus.access.AccessRules;
import dev.trafficbus.access.AccessRules.Role;
import dev.trafficbus.access.Principals;
import dev.trafficbus.bus.ConsumerGroups;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.AclAdmin;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.common.acl.AclBinding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code trafficbus acls}: the Kafka ACLs one role of the bus needs, printed, applied or revoked. */
@Command(name = "acls",
        header = "Print or apply the Kafka ACLs a role (forwarder, processor, replayer, admin) needs.",
        mixinStandardHelpOptions = true, sortOptions = false, version = "trafficbus acls 0.1.0",
        description = {"Prints the Kafka ACLs a role of the bus needs on a cluster with an authorizer, as a table and "
                + "as kafka-acls.sh arguments; --apply creates them, --revoke deletes exactly them.",
                "Roles: forwarder (WRITE, DESCRIBE, CREATE on its " + Topics.CAPTURE_PREFIX + "<source> only), "
                        + "processor (reads " + Topics.CAPTURE_PREFIX + "*, writes " + Topics.SUBSCRIPTION_PREFIX + "*, "
                        + Topics.DEADLETTER + ", " + Topics.SUBSCRIPTION_STATS + ", " + Topics.SUBSCRIPTIONS
                        + ", its Streams topics and group), replayer (its run ledgers in " + Topics.RUNS + ", "
                        + Topics.RESPONSES_PREFIX + "<user>.* and groups <user>.*; "
                        + "subscription topics come from a subscription's readers), admin (subscribe, unsubscribe, "
                        + "status, topic settings).",
                "Printing contacts no broker; --apply and --revoke use --bootstrap-servers and --kafka-config "
                        + "(an administrator's).",
                "Run ids of a team's replays start with '<user>.' (replay --run team-a.nightly) so their response "
                        + "topics are its own."})
public final class AclsCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "--role", required = true, paramLabel = "ROLE",
            description = "forwarder, processor, replayer or admin.")
    Role role;

    @Option(names = "--principal", paramLabel = "PRINCIPAL",
            description = "Who gets the ACLs: User:NAME or a bare user name (default: User:fwd-<source> for a "
                    + "forwarder, User:processor, User:admin; a replayer's must be given).")
    String principal;

    @Option(names = "--source", paramLabel = "ID", description = "The forwarder's source id (its topic " + Topics.CAPTURE_PREFIX + "<ID>).")
    String source;

    @Option(names = "--application-id", paramLabel = "ID", defaultValue = ConsumerGroups.PROCESSOR,
            description = "The processor's --application-id (default ${DEFAULT-VALUE}).")
    String applicationId;

    @Option(names = "--apply", description = "Create the ACLs on the brokers (needs ALTER on the cluster).")
    boolean apply;

    @Option(names = "--revoke", description = "Delete exactly these ACLs from the brokers.")
    boolean revoke;

    /** Used only with --apply or --revoke: printing contacts no broker. */
    @Mixin
    KafkaClientOptions kafka;

    @Override
    public Integer call() {
        String who = principal();
        if (role == Role.FORWARDER && (source == null || source.isBlank())) {
            throw new UserInputException("--role forwarder needs --source ID (the forwarder's " + Topics.CAPTURE_PREFIX + "<ID>)");
        }
        List<AclBinding> bindings;
        try {
            bindings = AccessRules.forRole(role, who, source, applicationId);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage(), e);
        }
        System.out.println(AclAdmin.header());
        bindings.forEach(b -> System.out.println(AclAdmin.line(b)));
        System.out.println();
        System.out.println("# the same with Kafka's tool (kafka-acls.sh --bootstrap-server HOST:PORT --command-config FILE ...):");
        bindings.forEach(b -> System.out.println("# " + AclAdmin.kafkaAclsArgs(b)));
        if (!apply && !revoke) {
            return 0;
        }
        if (apply && revoke) {
            throw new UserInputException("give --apply or --revoke, not both");
        }
        var props = kafka.toProperties();
        AclAdmin.Outcome outcome = apply ? AclAdmin.grant(props, bindings, TIMEOUT)
                : AclAdmin.revoke(props, bindings, TIMEOUT);
        if (outcome == AclAdmin.Outcome.NO_AUTHORIZER) {
            throw new UserInputException("the brokers at " + props.getProperty("bootstrap.servers")
                    + " run without an authorizer (authorizer.class.name), so there are no ACLs to change");
        }
        System.out.println((apply ? "applied " : "revoked ") + bindings.size() + " ACLs for "
                + role.name().toLowerCase(Locale.ROOT) + " " + who);
        return 0;
    }

    private String principal() {
        if (principal != null) {
            try {
                return Principals.normalize(principal);
            } catch (IllegalArgumentException e) {
                throw new UserInputException("--principal " + e.getMessage(), e);
            }
        }
        return switch (role) {
            case FORWARDER -> Principals.normalize("fwd-" + (source == null ? "" : source));
            case PROCESSOR -> Principals.normalize("processor");
            case ADMIN -> Principals.normalize("admin");
            case REPLAYER -> throw new UserInputException("--role replayer needs --principal User:NAME (the team's user)");
        };
    }
}
