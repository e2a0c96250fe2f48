package dev.trafficbus.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.SecurityDisabledException;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Grants and revokes ACL bindings on the brokers of a client configuration; exact bindings only, never wildcards. */
public final class AclAdmin {
    /** What the brokers did with a grant or a revocation. */
    public enum Outcome {
        /** Every binding was created or deleted. */
        APPLIED,
        /** The brokers run without an authorizer: there are no ACLs to change, every client may do everything. */
        NO_AUTHORIZER
    }

    private AclAdmin() {
    }

    /** Creates {@code bindings} (creating one that exists is harmless). */
    public static Outcome grant(Properties clientConfig, Collection<AclBinding> bindings, Duration timeout) {
        if (bindings.isEmpty()) {
            return Outcome.APPLIED;
        }
        try (Admin admin = KafkaAdmin.open(clientConfig, timeout)) {
            return await(() -> {
                admin.createAcls(bindings).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                awaitVisible(admin, bindings, true, timeout);
            }, clientConfig, timeout);
        }
    }

    /** Deletes exactly {@code bindings}: the same resource, pattern type, principal, host, operation and permission. */
    public static Outcome revoke(Properties clientConfig, Collection<AclBinding> bindings, Duration timeout) {
        if (bindings.isEmpty()) {
            return Outcome.APPLIED;
        }
        List<AclBindingFilter> filters = bindings.stream().map(AclBinding::toFilter).toList();
        try (Admin admin = KafkaAdmin.open(clientConfig, timeout)) {
            return await(() -> {
                admin.deleteAcls(filters).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                awaitVisible(admin, bindings, false, timeout);
            }, clientConfig, timeout);
        }
    }

    /** Column titles for {@link #line(AclBinding)}. */
    public static String header() {
        return String.format("%-24s %-10s %-16s %-16s %-9s %s", "PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE",
                "PATTERN", "NAME");
    }

    /** One binding as a table row, e.g. {@code User:team-a  ALLOW  READ  TOPIC  LITERAL  tb.sub.team-a}. */
    public static String line(AclBinding b) {
        return String.format("%-24s %-10s %-16s %-16s %-9s %s", b.entry().principal(), b.entry().permissionType(),
                b.entry().operation(), b.pattern().resourceType(), b.pattern().patternType(), b.pattern().name());
    }

    /** The same binding as arguments of Kafka's own {@code kafka-acls.sh}. */
    public static String kafkaAclsArgs(AclBinding b) {
        String resource = switch (b.pattern().resourceType()) {
            case TOPIC -> "--topic " + b.pattern().name();
            case GROUP -> "--group " + b.pattern().name();
            case TRANSACTIONAL_ID -> "--transactional-id " + b.pattern().name();
            case CLUSTER -> "--cluster";
            default -> "--resource-type " + b.pattern().resourceType() + " " + b.pattern().name();
        };
        return "--add --allow-principal " + b.entry().principal() + " --operation " + camel(b.entry().operation())
                + " " + resource + " --resource-pattern-type " + b.pattern().patternType().name().toLowerCase(Locale.ROOT);
    }

    private static String camel(AclOperation op) {
        StringBuilder out = new StringBuilder();
        for (String part : op.name().split("_")) {
            out.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
        }
        return out.toString();
    }

    /**
     * Waits until the broker answering describes {@code bindings} as present (or absent): a change is committed by the
     * controller before brokers apply it, and a client right after a grant would still be refused.
     */
    private static void awaitVisible(Admin admin, Collection<AclBinding> bindings, boolean present, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (AclBinding b : bindings) {
            while (admin.describeAcls(b.toFilter()).values().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .isEmpty() == present) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("the brokers did not apply the ACL change within " + timeout.toSeconds()
                            + " s");
                }
                Thread.sleep(50);
            }
        }
    }

    private interface Call {
        void run() throws ExecutionException, InterruptedException, TimeoutException;
    }

    private static Outcome await(Call call, Properties clientConfig, Duration timeout) {
        try {
            call.run();
            return Outcome.APPLIED;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SecurityDisabledException) {
                return Outcome.NO_AUTHORIZER;
            }
            KafkaErrors.throwIfRefused(e, AclOperation.ALTER);
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw KafkaAdmin.unreachable(clientConfig, timeout, e.getCause());
            }
            throw new UserInputException("Kafka could not change ACLs: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw KafkaAdmin.unreachable(clientConfig, timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while changing ACLs", e);
        }
    }
}
