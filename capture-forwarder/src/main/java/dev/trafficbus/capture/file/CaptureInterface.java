package dev.trafficbus.capture.file;

import dev.trafficbus.packet.LinkLayer;

/**
 * One interface of a capture file: a pcap file has one, a pcapng section one per Interface Description Block, each
 * with its own link type, snap length and time resolution ({@code if_tsresol}, {@code if_tsoffset}).
 */
public final class CaptureInterface {
    private static final long[] POWERS_OF_TEN = new long[19];

    static {
        POWERS_OF_TEN[0] = 1;
        for (int i = 1; i < POWERS_OF_TEN.length; i++) {
            POWERS_OF_TEN[i] = POWERS_OF_TEN[i - 1] * 10;
        }
    }

    private final int index;
    private final int linkType;
    private final int snaplen;
    private final LinkLayer linkLayer;
    // Time units per second are 10^decimalExponent, or 2^binaryExponent when binary is set (pcapng if_tsresol).
    private final boolean binary;
    private final int exponent;
    private final long offsetMicros;

    CaptureInterface(int index, int linkType, int snaplen, boolean binary, int exponent, long offsetSeconds) {
        this.index = index;
        this.linkType = linkType;
        this.snaplen = snaplen;
        this.linkLayer = LinkLayer.forDlt(linkType);
        this.binary = binary;
        this.exponent = exponent;
        this.offsetMicros = offsetSeconds * 1_000_000L;
    }

    /** Its number in its section (pcapng interface id; 0 in a pcap file). */
    public int index() {
        return index;
    }

    /** The file's link type (LINKTYPE_ value). */
    public int linkType() {
        return linkType;
    }

    /** Its snap length as the file declares it (0: none given). */
    public int snaplen() {
        return snaplen;
    }

    /** The link layer to strip, or null when the link type cannot be read. */
    public LinkLayer linkLayer() {
        return linkLayer;
    }

    /** "Ethernet (1)" or "IEEE802_11 (105)": for messages. */
    public String describe() {
        return LinkTypes.describe(linkType);
    }

    /** Microseconds since 1970 of a timestamp in this interface's units, or {@link CapturedFrame#BAD_TIME}. */
    long micros(long units) {
        if (units < 0) {
            return CapturedFrame.BAD_TIME; // past year 2262 in nanoseconds: not a real capture time
        }
        long micros;
        if (binary) {
            long seconds = exponent == 0 ? units : units >>> exponent;
            long fraction = exponent == 0 ? 0 : units & ((1L << exponent) - 1);
            micros = seconds * 1_000_000L + (long) (Math.scalb((double) fraction, -exponent) * 1e6);
        } else if (exponent == 6) {
            micros = units;
        } else if (exponent > 6) {
            if (exponent - 6 >= POWERS_OF_TEN.length) {
                return CapturedFrame.BAD_TIME;
            }
            micros = units / POWERS_OF_TEN[exponent - 6];
        } else {
            long factor = POWERS_OF_TEN[6 - exponent];
            if (units > Long.MAX_VALUE / factor) {
                return CapturedFrame.BAD_TIME;
            }
            micros = units * factor;
        }
        long shifted = micros + offsetMicros;
        return shifted < 0 ? CapturedFrame.BAD_TIME : shifted;
    }
}
