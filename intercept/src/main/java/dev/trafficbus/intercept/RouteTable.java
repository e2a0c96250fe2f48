package dev.trafficbus.intercept;

import dev.trafficbus.intercept.frame.Route;

import java.util.ArrayList;
import java.util.List;

/**
 * Which replayer connection owns which fake client addresses. Written rarely (REGISTER, UNREGISTER, disconnect)
 * and read for every captured packet, so reads walk an immutable array without locking. When routes overlap,
 * the longest prefix wins, then the most recent registration.
 *
 * @param <T> the owner of a route (a replayer connection)
 */
public final class RouteTable<T> {
    private record Entry<T>(Route route, T owner) {
    }

    private volatile Entry<T>[] entries = newArray(0);
    private volatile long version;

    /** Adds a route for {@code owner}; registering the same route again for the same owner changes nothing. */
    public synchronized void register(Route route, T owner) {
        Entry<T>[] current = entries;
        for (Entry<T> e : current) {
            if (e.owner == owner && e.route.equals(route)) {
                return;
            }
        }
        Entry<T>[] next = newArray(current.length + 1);
        System.arraycopy(current, 0, next, 0, current.length);
        next[current.length] = new Entry<>(route, owner);
        entries = next;
        version++;
    }

    /**
     * Adds a route for {@code owner} unless it overlaps a route of an owner that {@code mayShare} rejects;
     * checked and added under one lock, so two conflicting registrations cannot both get in.
     *
     * @param mayShare given the owner of an overlapping route, true when {@code owner} may take over the overlap
     * @return null when registered, else the owner of the conflicting route (nothing was added)
     */
    public synchronized T registerUnlessConflicting(Route route, T owner, java.util.function.Predicate<T> mayShare) {
        for (Entry<T> e : entries) {
            if (e.owner != owner && overlaps(e.route, route) && !mayShare.test(e.owner)) {
                return e.owner;
            }
        }
        register(route, owner);
        return null;
    }

    /** True when some destination (address and port) matches both routes. */
    static boolean overlaps(Route a, Route b) {
        if (a.family() != b.family() || a.lastPort() < b.firstPort() || b.lastPort() < a.firstPort()) {
            return false;
        }
        byte[] x = a.address();
        byte[] y = b.address();
        int bits = Math.min(a.prefixLength(), b.prefixLength());
        for (int i = 0; i < x.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if (((x[i] ^ y[i]) & mask) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Removes {@code owner}'s route equal to {@code route}; true when there was one. */
    public synchronized boolean unregister(Route route, T owner) {
        return removeIf(e -> e.owner == owner && e.route.equals(route)) > 0;
    }

    /** Removes every route of {@code owner}; returns how many. */
    public synchronized int removeOwner(T owner) {
        return removeIf(e -> e.owner == owner);
    }

    private int removeIf(java.util.function.Predicate<Entry<T>> test) {
        List<Entry<T>> kept = new ArrayList<>();
        for (Entry<T> e : entries) {
            if (!test.test(e)) {
                kept.add(e);
            }
        }
        int removed = entries.length - kept.size();
        if (removed > 0) {
            entries = kept.toArray(newArray(0));
            version++;
        }
        return removed;
    }

    /**
     * The owner of destination {@code addr[off..off+len)}:{@code port}, or null when no route covers it.
     * Allocation-free.
     */
    public T lookup(byte[] addr, int off, int len, int port) {
        Entry<T>[] snapshot = entries;
        Entry<T> best = null;
        for (Entry<T> e : snapshot) {
            if (e.route.matches(addr, off, len, port)
                    && (best == null || e.route.prefixLength() >= best.route.prefixLength())) {
                best = e;
            }
        }
        return best == null ? null : best.owner;
    }

    /** Grows with every change, so a reader can tell whether routes changed since it last looked. */
    public long version() {
        return version;
    }

    /** Number of routes registered. */
    public int size() {
        return entries.length;
    }

    /** The routes registered now, for logs. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (Entry<T> e : entries) {
            out.add(e.route + " -> " + e.owner);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static <T> Entry<T>[] newArray(int n) {
        return (Entry<T>[]) new Entry[n];
    }
}
