package dev.trafficbus.subscription;

/** A subscription as the processor runs it: the rules plus its rate bucket, counters and header. */
final class ActiveSubscription {
    final Subscription rules;
    final String name;
    final SubscriptionHeader header;
    final boolean stateful;
    final SessionRateLimiter rateLimiter;
    final SubscriptionCounters counters;

    ActiveSubscription(Subscription rules, SubscriptionCounters counters) {
        this.rules = rules;
        this.name = rules.name();
        this.header = new SubscriptionHeader(name);
        this.stateful = rules.needsSessionState();
        this.rateLimiter = rules.ratePerSecond() > 0 ? new SessionRateLimiter(rules.ratePerSecond()) : null;
        this.counters = counters;
    }
}
