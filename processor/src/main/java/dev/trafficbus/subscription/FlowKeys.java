package dev.trafficbus.subscription;

/**
 * Reads the fields of raw flow-key bytes (layout of {@link dev.trafficbus.flow.FlowKey}) in place, for the
 * per-packet path where building a FlowKey object per record would cost an allocation.
 */
final class FlowKeys {
    private FlowKeys() {
    }

    /** True when {@code key} has the length its IP version byte promises. */
    static boolean valid(byte[] key) {
        return key != null && key.length > 0 && (key[0] == 4 ? key.length == 13 : key[0] == 6 && key.length == 37);
    }

    static int addressLength(byte[] key) {
        return key[0] == 4 ? 4 : 16;
    }

    static int serverPort(byte[] key) {
        int a = addressLength(key);
        return ((key[1 + a] & 0xFF) << 8) | (key[2 + a] & 0xFF);
    }

    /** Offset of the client address bytes. */
    static int clientAddressOffset(byte[] key) {
        return 3 + addressLength(key);
    }
}
