package dev.trafficbus.subscription;

/** The 4-byte big-endian values of the {@code tb.copy} header, made once: header values are never changed. */
final class CopyIndex {
    private static final byte[][] VALUES = new byte[SubscriptionParser.MAX_AMPLIFY][];

    static {
        for (int i = 0; i < VALUES.length; i++) {
            VALUES[i] = new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
        }
    }

    private CopyIndex() {
    }

    static byte[] bytes(int copy) {
        return VALUES[copy];
    }
}
