package dev.trafficbus.session;

/** Serial-number arithmetic on 32-bit TCP sequence and acknowledgement numbers (RFC 1982), held in longs. */
public final class TcpSeq {
    private TcpSeq() {
    }

    /** Signed distance {@code a - b} in sequence space: positive when {@code a} is after {@code b}. */
    public static int diff(long a, long b) {
        return (int) (a - b);
    }

    /** True when {@code a} comes strictly after {@code b}. */
    public static boolean after(long a, long b) {
        return diff(a, b) > 0;
    }

    /** {@code a + n} wrapped to 32 bits. */
    public static long add(long a, long n) {
        return (a + n) & 0xFFFF_FFFFL;
    }
}
