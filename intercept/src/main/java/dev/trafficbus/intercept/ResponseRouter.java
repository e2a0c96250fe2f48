package dev.trafficbus.intercept;

import dev.trafficbus.intercept.frame.Route;

import java.util.ArrayList;
import java.util.List;

/**
 * Sends each captured response to the replayer connection that registered its destination, holding it briefly
 * when no route exists yet. One lock serialises the capture thread, the periodic flush and connection changes,
 * so batches and the hold area need no further synchronisation.
 */
final class ResponseRouter {
    private final RouteTable<ClientLink> routes = new RouteTable<>();
    private final List<ClientLink> links = new ArrayList<>();
    private final HeldResponses held;
    private final InterceptCounters counters;
    private long heldCheckedVersion = -1;
    /** True while a batch may be open or packets are held; read by the flusher without the lock. */
    private volatile boolean pendingWork;
    private Runnable onWork = () -> { };

    ResponseRouter(HeldResponses held, InterceptCounters counters) {
        this.held = held;
        this.counters = counters;
    }

    /**
     * Relays {@code len} bytes at {@code buf[off]} (from the IP header on) whose destination address is at
     * {@code addressOffset} and destination port is {@code port}.
     */
    synchronized void route(byte[] buf, int off, int len, int addressOffset, int addressLength, int port,
                            long nowNanos) {
        if (!held.isEmpty() && heldCheckedVersion != routes.version()) {
            releaseHeld(); // keep order: packets that waited go before newer ones for the same route
        }
        if (!pendingWork) {
            pendingWork = true;
            onWork.run();
        }
        ClientLink owner = routes.lookup(buf, addressOffset, addressLength, port);
        if (owner != null) {
            owner.offer(buf, off, len);
        } else if (!held.enabled()) {
            counters.countDropped(DropReason.NO_ROUTE);
        } else if (held.hold(buf, off, len, addressOffset, addressLength, port, nowNanos)) {
            counters.countHeld();
        } else {
            counters.countDropped(DropReason.HOLD_FULL);
        }
    }

    /** Sends every open batch, releases held packets whose route appeared, drops those held too long. */
    synchronized void tick(long nowNanos) {
        if (!held.isEmpty()) {
            if (heldCheckedVersion != routes.version()) {
                releaseHeld();
            }
            counters.countDropped(DropReason.NO_ROUTE, held.expire(nowNanos));
        }
        for (ClientLink link : links) {
            link.flush();
        }
        pendingWork = !held.isEmpty();
    }

    /** True when a tick has something to do: an open batch or a held packet. */
    boolean hasPendingWork() {
        return pendingWork;
    }

    /** What to call when work appears after a quiet spell (wakes the flusher). */
    synchronized void onWork(Runnable wake) {
        this.onWork = wake;
    }

    private void releaseHeld() {
        heldCheckedVersion = routes.version();
        held.releaseAll(h -> {
            ClientLink owner = routes.lookup(h.bytes(), h.addressOffset(), h.addressLength(), h.port());
            if (owner == null) {
                return false;
            }
            owner.offer(h.bytes(), 0, h.bytes().length);
            return true;
        });
    }

    /** A connection authenticated; it may register routes now. */
    synchronized void add(ClientLink link) {
        links.add(link);
    }

    /** A connection closed: its routes go and its open batch is counted as lost with it. */
    synchronized void remove(ClientLink link) {
        routes.removeOwner(link);
        links.remove(link);
        link.flush();
    }

    /**
     * Registers {@code route} for {@code link} unless it overlaps a live route of another replayer: two replayers
     * sharing fake clients would take each other's answers. A connection with the same HELLO name is the same
     * replayer reconnecting before its old connection is seen dead, so it takes over (most recent wins).
     *
     * @return null when registered, else the connection whose route conflicts
     */
    ClientLink register(Route route, ClientLink link) {
        return routes.registerUnlessConflicting(route, link,
                other -> !other.isOpen() || other.name().equals(link.name()));
    }

    boolean unregister(Route route, ClientLink link) {
        return routes.unregister(route, link);
    }

    /** At shutdown: sends open batches and held packets whose route arrived, counts the rest as no-route. */
    synchronized void drain() {
        if (!held.isEmpty() && heldCheckedVersion != routes.version()) {
            releaseHeld(); // a route registered after the last tick still gets what waited for it
        }
        for (ClientLink link : links) {
            link.flush();
        }
        counters.countDropped(DropReason.NO_ROUTE, held.clear());
    }

    synchronized int heldCount() {
        return held.size();
    }

    int routeCount() {
        return routes.size();
    }

    synchronized int queuedCount() {
        int n = 0;
        for (ClientLink link : links) {
            n += link.queued();
        }
        return n;
    }
}
