package dev.trafficbus.replay.tcp;

/** Where the engine's hand-built IP packets go: the raw socket in a replay, a recorder in the state machine's tests. */
interface PacketOutput extends AutoCloseable {
    /** Sends {@code len} bytes of {@code packet} (IP header first); false when it could not be sent. */
    boolean send(byte[] packet, int len);

    @Override
    void close();
}
