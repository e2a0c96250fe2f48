package dev.trafficbus.replay.intake;

import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Collects the consumer thread's events for the event loops and hands each loop one batch per poll, so a
 * loop wakes once per batch instead of once per event. Events of one loop keep their order. Used by the
 * consumer thread only; both engines hand their session events over this way.
 */
public final class LoopMailbox {
    private static final Logger log = LoggerFactory.getLogger(LoopMailbox.class);
    private final Map<EventLoop, ArrayList<Runnable>> pending = new IdentityHashMap<>();
    private int size;

    /** Queues {@code event} for {@code loop}; it runs after the next {@link #flush()}. */
    public void post(EventLoop loop, Runnable event) {
        pending.computeIfAbsent(loop, l -> new ArrayList<>()).add(event);
        size++;
    }

    /** Events queued and not flushed. */
    int size() {
        return size;
    }

    /** Hands every loop its queued events as one task. */
    public void flush() {
        if (size == 0) {
            return;
        }
        for (Map.Entry<EventLoop, ArrayList<Runnable>> e : pending.entrySet()) {
            ArrayList<Runnable> batch = e.getValue();
            if (batch.isEmpty()) {
                continue;
            }
            e.setValue(new ArrayList<>(batch.size()));
            e.getKey().execute(() -> {
                for (Runnable r : batch) {
                    try {
                        r.run();
                    } catch (RuntimeException ex) {
                        // One session's failure must not swallow the other sessions' events (they would never end).
                        log.error("replay: a session event failed", ex);
                    }
                }
            });
        }
        size = 0;
    }
}
