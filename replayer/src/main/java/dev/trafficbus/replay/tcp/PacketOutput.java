package dev.trafficbus.replay.tcp;

/** Where the engine's hand-built IP packets go: the raw socket in a replay, a recorder in the state machine's tests. */
interface PacketOutput extends AutoCloseable {
    /** Sends or queues {@code len} bytes of {@code packet} (IP header first); false when it cannot be sent. */
    boolean send(byte[] packet, int len);

    /** Sends what {@link #send} queued; returns how many packets of it could not be sent. */
    default int flush() {
        return 0;
    }

    @Override
    void close();
}
