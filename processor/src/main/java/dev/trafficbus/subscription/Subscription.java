package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.redact.RedactionRules;
import dev.trafficbus.subscription.http.HttpRule;

import java.util.List;
import java.util.Set;

/**
 * One team's validated subscription: which sources it reads, which sessions it keeps, how many copies it
 * emits and what it masks. Built only by {@link SubscriptionParser}, so every field is already checked.
 *
 * @param name          subscription name; output topic {@code tb.sub.<name>}
 * @param sources       source ids whose capture topics it reads
 * @param serverPorts   server ports a session must use (empty: any)
 * @param clientCidrs   client networks a session must come from (empty: any)
 * @param http          rule on the first request of each session, or null
 * @param samplePercent share of sessions kept, 0 to 100
 * @param amplify       copies emitted of every kept session, at least 1
 * @param ratePerSecond cap on newly kept sessions per second of capture time, 0 for none
 * @param redaction     what to mask before records leave, or {@link RedactionRules#NONE}
 * @param definition    the subscription as canonical JSON, as stored in {@code tb.subscriptions}
 * @param readers       principals ({@code User:<name>}) granted read access to the output topic by {@code subscribe}
 */
public record Subscription(String name, Set<String> sources, Set<Integer> serverPorts, List<ClientCidr> clientCidrs,
                           HttpRule http, double samplePercent, int amplify, double ratePerSecond,
                           RedactionRules redaction, String definition, Set<String> readers) {

    /** The output topic. */
    public String topic() {
        return Topics.subscription(name);
    }

    /** True when decisions need per-session state (sampling by session start, rate caps, HTTP rules). */
    public boolean needsSessionState() {
        return http != null || samplePercent < 100.0 || ratePerSecond > 0;
    }

    /** Reason a session with this server port and client address is filtered out, or null when it passes. */
    public String filterReason(byte[] flowKey) {
        if (!serverPorts.isEmpty() && !serverPorts.contains(FlowKeys.serverPort(flowKey))) {
            return "filter-server-port";
        }
        if (!clientCidrs.isEmpty()) {
            for (ClientCidr cidr : clientCidrs) {
                if (cidr.containsClientOf(flowKey)) {
                    return null;
                }
            }
            return "filter-client-cidr";
        }
        return null;
    }
}
