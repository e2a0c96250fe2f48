package dev.trafficbus.capture;

import java.time.Duration;

/**
 * When libpcap's capture ring should change size. The kernel maps every page of the ring into the process from the
 * start, so its size is resident whether traffic comes or not; but the ring is cut into blocks that the kernel hands
 * over at least every read timeout, full or not, so even a trickle of packets takes a block per timeout and a small
 * ring covers only a short stall of the capture thread. Hence two states: an idle forwarder (fewer than
 * {@code busyPackets} packets a second) holds {@link #IDLE_BYTES}; the first busy second, or a packet the kernel
 * dropped, grows it to {@code --buffer-size}; {@code quietAfter} without a busy second shrinks it back. A
 * {@code --buffer-size} of at most {@link #IDLE_BYTES} is never resized. Time is passed in, so the rule is tested
 * without a clock.
 */
final class RingSizing {
    /** The ring of an idle forwarder: libpcap's and tcpdump's own default. */
    static final int IDLE_BYTES = 2 << 20;
    /** Packets within one second that make a forwarder busy: 8 blocks of the idle ring then cover 400 ms. */
    static final int BUSY_PACKETS = 20;
    /** Quiet time after which a grown ring is given back. */
    static final Duration QUIET_AFTER = Duration.ofSeconds(60);

    /** How long a refused resize waits before it is tried again. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(10);

    private static final long SECOND = 1_000_000_000L;

    enum State { IDLE, BUSY }

    private final int idleBytes;
    private final int busyBytes;
    private final int busyPackets;
    private final long quietAfterNanos;
    private State state;
    private long windowStart;
    private long windowPackets;
    private long lastBusy;
    private long retryAfter;

    RingSizing(int maxBytes, int busyPackets, Duration quietAfter, long nowNanos) {
        this.busyBytes = maxBytes;
        this.idleBytes = Math.min(IDLE_BYTES, maxBytes);
        this.busyPackets = busyPackets;
        this.quietAfterNanos = quietAfter.toNanos();
        this.state = State.IDLE;
        this.windowStart = nowNanos;
        this.lastBusy = nowNanos;
        this.retryAfter = nowNanos;
    }

    /** The sizing of a live capture whose {@code --buffer-size} is {@code maxBytes}. */
    static RingSizing forBuffer(int maxBytes, long nowNanos) {
        return new RingSizing(maxBytes, BUSY_PACKETS, QUIET_AFTER, nowNanos);
    }

    /** How long without a busy second before a grown ring is given back. */
    Duration quietAfter() {
        return Duration.ofNanos(quietAfterNanos);
    }

    /** The ring the state asks for now. */
    int bytes() {
        return state == State.BUSY ? busyBytes : idleBytes;
    }

    /** The ring to open at start. */
    int initialBytes() {
        return idleBytes;
    }

    State state() {
        return state;
    }

    /**
     * Counts {@code packets} just read ({@code kernelDropped}: the kernel dropped some since the last call) and
     * returns the ring size to switch to now, or 0 to keep the ring as it is.
     */
    int observe(int packets, boolean kernelDropped, long nowNanos) {
        if (nowNanos - windowStart >= SECOND) {
            windowStart = nowNanos;
            windowPackets = 0;
        }
        windowPackets += Math.max(0, packets);
        boolean busy = windowPackets >= busyPackets || kernelDropped;
        if (busy && (packets > 0 || kernelDropped)) {
            lastBusy = nowNanos;
        }
        if (idleBytes == busyBytes || nowNanos - retryAfter < 0) {
            return 0;
        }
        switch (state) {
            case IDLE:
                if (busy) {
                    state = State.BUSY;
                    return busyBytes;
                }
                return 0;
            case BUSY:
                if (nowNanos - lastBusy >= quietAfterNanos) {
                    state = State.IDLE;
                    return idleBytes;
                }
                return 0;
            default:
                throw new IllegalStateException(state.name());
        }
    }

    /**
     * A resize to {@code bytes} could not be made (the new ring did not open): the state is the ring's again, and
     * the next try waits {@link #RETRY_AFTER}, so a host short of memory is not asked every read.
     */
    void refused(int bytes, long nowNanos) {
        state = bytes == busyBytes ? State.IDLE : State.BUSY;
        retryAfter = nowNanos + RETRY_AFTER.toNanos();
    }
}
