package dev.trafficbus.replay.tcp;

import io.netty.channel.EventLoop;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;

/**
 * Carries the consumer thread's session events to the engine thread in one task per poll instead of one per
 * event. Filled and flushed by the consumer thread only.
 */
final class EventBatch {
    private static final Logger log = LoggerFactory.getLogger(EventBatch.class);
    private final EventLoop loop;
    private ArrayList<Runnable> pending = new ArrayList<>();

    EventBatch(EventLoop loop) {
        this.loop = loop;
    }

    void add(Runnable r) {
        pending.add(r);
    }

    /** Hands everything added so far to the engine thread, in order. */
    void flush() {
        if (pending.isEmpty()) {
            return;
        }
        ArrayList<Runnable> batch = pending;
        pending = new ArrayList<>(Math.max(16, batch.size()));
        loop.execute(() -> {
            for (Runnable r : batch) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    // One session's failure must not swallow the other sessions' events (they would never end).
                    log.error("tcp engine: a session event failed", e);
                }
            }
        });
    }
}
