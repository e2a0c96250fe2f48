package dev.trafficbus.subscription;

/** A subscription as the processor runs it: the rules plus its rate bucket, counters and output topic. */
final class ActiveSubscription {
    final Subscription rules;
    final String name;
    final String topic;
    final boolean stateful;
    final SessionRateLimiter rateLimiter;
    final SubscriptionCounters counters;

    ActiveSubscription(Subscription rules, SubscriptionCounters counters) {
        this.rules = rules;
        this.name = rules.name();
        this.topic = rules.topic();
        this.stateful = rules.needsSessionState();
        this.rateLimiter = rules.ratePerSecond() > 0 ? new SessionRateLimiter(rules.ratePerSecond()) : null;
        this.counters = counters;
    }
}
