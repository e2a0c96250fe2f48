package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The subscriptions in force, shared by every stream task of the instance. Changes (from the
 * {@code tb.subscriptions} topic) swap an immutable snapshot, so the per-record lookup is one volatile read
 * and one map lookup by capture topic, with no lock.
 */
public final class SubscriptionRegistry {
    private static final ActiveSubscription[] NONE = new ActiveSubscription[0];
    private final ProcessorCounters counters;
    private volatile Snapshot snapshot = new Snapshot(Map.of(), Map.of());

    private record Snapshot(Map<String, ActiveSubscription> byName, Map<String, ActiveSubscription[]> byTopic) {
    }

    public SubscriptionRegistry(ProcessorCounters counters) {
        this.counters = counters;
    }

    /** Adds or replaces a subscription (a replacement starts with a fresh rate bucket, same counters). */
    public synchronized void put(Subscription s) {
        Map<String, ActiveSubscription> byName = new TreeMap<>(snapshot.byName);
        byName.put(s.name(), new ActiveSubscription(s, counters.of(s.name())));
        publish(byName);
    }

    /** Removes a subscription; returns whether it was there. */
    public synchronized boolean remove(String name) {
        Map<String, ActiveSubscription> byName = new TreeMap<>(snapshot.byName);
        boolean had = byName.remove(name) != null;
        publish(byName);
        return had;
    }

    private void publish(Map<String, ActiveSubscription> byName) {
        Map<String, List<ActiveSubscription>> lists = new HashMap<>();
        for (ActiveSubscription a : byName.values()) {
            for (String source : a.rules.sources()) {
                lists.computeIfAbsent(Topics.capture(source), t -> new ArrayList<>()).add(a);
            }
        }
        Map<String, ActiveSubscription[]> byTopic = new HashMap<>();
        lists.forEach((t, l) -> byTopic.put(t, l.toArray(NONE)));
        snapshot = new Snapshot(Map.copyOf(byName), Map.copyOf(byTopic));
    }

    /** The subscriptions reading capture topic {@code topic} (an empty array when none). */
    ActiveSubscription[] forTopic(String topic) {
        ActiveSubscription[] a = snapshot.byTopic.get(topic);
        return a == null ? NONE : a;
    }

    /** The subscription named {@code name}, or null. */
    ActiveSubscription get(String name) {
        return snapshot.byName.get(name);
    }

    /** The subscriptions in force, by name. */
    public Collection<Subscription> all() {
        return snapshot.byName.values().stream().map(a -> a.rules).toList();
    }
}
