package dev.trafficbus.subscription;

import dev.trafficbus.access.AccessRules;
import dev.trafficbus.cli.AclAdmin;
import org.apache.kafka.common.acl.AclBinding;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The ACLs {@code subscribe} grants a subscription's readers, and what a change takes back: exactly the bindings the
 * old version granted that neither the new version nor another subscription still grants (two subscriptions of one
 * team share its group prefix).
 *
 * @param grant  bindings to create
 * @param revoke bindings to delete
 */
record SubscriptionGrants(Set<AclBinding> grant, Set<AclBinding> revoke) {

    /** What readers of {@code s} are granted. */
    static List<AclBinding> of(Subscription s) {
        return AccessRules.subscriptionReaders(s.topic(), s.readers());
    }

    /** Adding or replacing {@code put} over the stored definitions {@code before} (by name). */
    static SubscriptionGrants forPut(Map<String, String> before, Collection<Subscription> put) {
        Set<String> names = new LinkedHashSet<>();
        Set<AclBinding> grant = new LinkedHashSet<>();
        for (Subscription s : put) {
            names.add(s.name());
            grant.addAll(of(s));
        }
        Set<AclBinding> revoke = new LinkedHashSet<>();
        for (String name : names) {
            revoke.addAll(granted(before.get(name)));
        }
        revoke.removeAll(grant);
        revoke.removeAll(stillGranted(before, names));
        return new SubscriptionGrants(grant, revoke);
    }

    /** Removing the subscription {@code name} from the stored definitions {@code before}. */
    static SubscriptionGrants forRemove(Map<String, String> before, String name) {
        Set<AclBinding> revoke = new LinkedHashSet<>(granted(before.get(name)));
        revoke.removeAll(stillGranted(before, Set.of(name)));
        return new SubscriptionGrants(Set.of(), revoke);
    }

    /**
     * Creates what is to be granted, then deletes what is to be revoked; returns what was done for the user, or null
     * when there was nothing to do.
     */
    String apply(Properties kafka, Duration timeout) {
        if (isEmpty()) {
            return null;
        }
        if (AclAdmin.grant(kafka, grant, timeout) == AclAdmin.Outcome.NO_AUTHORIZER
                || AclAdmin.revoke(kafka, revoke, timeout) == AclAdmin.Outcome.NO_AUTHORIZER) {
            return "readers not enforced: the brokers run without an authorizer, so every client reads every topic";
        }
        return (grant.isEmpty() ? "" : grant.size() + " ACLs granted to readers " + String.join(", ", principals(grant)))
                + (grant.isEmpty() || revoke.isEmpty() ? "" : "; ")
                + (revoke.isEmpty() ? "" : revoke.size() + " ACLs revoked from " + String.join(", ", principals(revoke)));
    }

    private static Set<String> principals(Set<AclBinding> bindings) {
        Set<String> out = new java.util.TreeSet<>();
        bindings.forEach(b -> out.add(b.entry().principal()));
        return out;
    }

    /** True when nothing is to be granted or revoked (no readers before or after): no ACL request is made. */
    boolean isEmpty() {
        return grant.isEmpty() && revoke.isEmpty();
    }

    /** What the subscriptions of {@code before} other than {@code except} grant. */
    private static Set<AclBinding> stillGranted(Map<String, String> before, Set<String> except) {
        Set<AclBinding> out = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : before.entrySet()) {
            if (!except.contains(e.getKey())) {
                out.addAll(granted(e.getValue()));
            }
        }
        return out;
    }

    /** What a stored definition granted; none for no definition. */
    private static List<AclBinding> granted(String definition) {
        return definition == null ? List.of() : of(SubscriptionParser.parseOne(definition));
    }
}
