package dev.trafficbus.capture;

import dev.trafficbus.capture.live.BulkPacketReader;

import java.util.HashMap;
import java.util.Map;

/**
 * The packets two capture rings both hold while a new ring replaces the old one. From the moment the new handle is
 * being opened, every packet the old ring gives is remembered; once the new handle is open the old one stops taking
 * packets (a filter that accepts none) and is read to its end; the new ring's first packets, the ones the old ring
 * gave too, are then skipped. A packet is known by its lengths and a hash of its bytes, not by its timestamp (the
 * kernel stamps a packet once for each ring), as often as the old ring gave it (a repeated segment is two packets).
 * The skipping ends at the first {@link #MISSES_TO_END} packets in a row the old ring did not give. At most
 * {@link #MAX_REMEMBERED} packets are remembered; past that the new ring may give some twice, which is counted.
 */
final class RingHandover {
    static final int MAX_REMEMBERED = 1 << 16;
    /** The kernel hands a block over at most one read timeout after its first packet; five of them is ample. */
    static final long BLOCKS_RETIRED_NANOS = 50_000_000L;
    /** The old ring is read for at most this long after it stopped taking packets. */
    static final long LONGEST_DRAIN_NANOS = 2_000_000_000L;
    static final int MISSES_TO_END = 64;

    private final Map<Long, Integer> given = new HashMap<>();
    private int remembered;
    private long unremembered;
    private long intakeStoppedNanos;
    private boolean skipping = true;
    private int misses;
    private long skipped;

    /** Passes each frame of the old ring on to {@code sink}, remembering it. */
    BulkPacketReader.FrameSink remembering(BulkPacketReader.FrameSink sink) {
        return new BulkPacketReader.FrameSink() {
            @Override
            public void frame(byte[] frame, int capturedLength, int wireLength, long micros) {
                if (remembered < MAX_REMEMBERED) {
                    given.merge(key(frame, capturedLength, wireLength), 1, Integer::sum);
                    remembered++;
                } else {
                    unremembered++;
                }
                sink.frame(frame, capturedLength, wireLength, micros);
            }

            @Override
            public void unreadable(int count) {
                sink.unreadable(count);
            }
        };
    }

    /** The old ring took its last packet at {@code nowNanos}. */
    void intakeStopped(long nowNanos) {
        intakeStoppedNanos = nowNanos;
    }

    /** Whether the old ring, read without waiting, has given all it took: a read gave nothing once blocks retired. */
    boolean drained(int delivered, long nowNanos) {
        long since = nowNanos - intakeStoppedNanos;
        return since >= LONGEST_DRAIN_NANOS || delivered == 0 && since >= BLOCKS_RETIRED_NANOS;
    }

    /** The sink for the new ring from here on: frames the old ring gave are skipped, until they are past. */
    BulkPacketReader.FrameSink joining(BulkPacketReader.FrameSink sink) {
        return new BulkPacketReader.FrameSink() {
            @Override
            public void frame(byte[] frame, int capturedLength, int wireLength, long micros) {
                if (skipping) {
                    if (forget(key(frame, capturedLength, wireLength))) {
                        skipped++;
                        misses = 0;
                        return;
                    }
                    if (++misses >= MISSES_TO_END) {
                        skipping = false;
                        given.clear();
                    }
                }
                sink.frame(frame, capturedLength, wireLength, micros);
            }

            @Override
            public void unreadable(int count) {
                sink.unreadable(count);
            }
        };
    }

    /** Whether the new ring's frames still need {@link #joining}. */
    boolean skipping() {
        return skipping;
    }

    /** Frames of the new ring skipped because the old ring gave them. */
    long skipped() {
        return skipped;
    }

    /** Frames of the old ring given past {@link #MAX_REMEMBERED}: if the new ring had them, they came twice. */
    long unremembered() {
        return unremembered;
    }

    /** Whether the old ring gave a packet {@code key} that the new ring has not matched yet; matches it. */
    private boolean forget(long key) {
        Integer n = given.get(key);
        if (n == null) {
            return false;
        }
        if (n == 1) {
            given.remove(key);
        } else {
            given.put(key, n - 1);
        }
        return true;
    }

    private static long key(byte[] frame, int capturedLength, int wireLength) {
        long h = 0xcbf29ce484222325L;
        h = (h ^ wireLength) * 0x100000001b3L;
        h = (h ^ capturedLength) * 0x100000001b3L;
        for (int i = 0; i < capturedLength; i++) {
            h = (h ^ frame[i]) * 0x100000001b3L;
        }
        return h;
    }
}
