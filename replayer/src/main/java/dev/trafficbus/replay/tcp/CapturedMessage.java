package dev.trafficbus.replay.tcp;

/** One captured client message waiting in a {@link TcpSession}, with what the capture says about its answer. */
final class CapturedMessage {
    /** The bytes, or null once handed to the send buffer (or dropped). */
    byte[] bytes;
    final long tsMicros;
    long expected;
    boolean settled;

    CapturedMessage(byte[] bytes, long tsMicros) {
        this.bytes = bytes;
        this.tsMicros = tsMicros;
    }
}
