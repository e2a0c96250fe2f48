package dev.trafficbus.subscription;

import java.nio.charset.StandardCharsets;

/** A subscription as the processor runs it: the rules plus its rate bucket, counters and header bytes. */
final class ActiveSubscription {
    final Subscription rules;
    final String name;
    final byte[] nameHeader;
    final boolean stateful;
    final SessionRateLimiter rateLimiter;
    final SubscriptionCounters counters;

    ActiveSubscription(Subscription rules, SubscriptionCounters counters) {
        this.rules = rules;
        this.name = rules.name();
        this.nameHeader = name.getBytes(StandardCharsets.UTF_8);
        this.stateful = rules.needsSessionState();
        this.rateLimiter = rules.ratePerSecond() > 0 ? new SessionRateLimiter(rules.ratePerSecond()) : null;
        this.counters = counters;
    }
}
