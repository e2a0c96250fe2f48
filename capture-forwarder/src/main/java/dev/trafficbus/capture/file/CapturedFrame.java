package dev.trafficbus.capture.file;

import dev.trafficbus.packet.LinkLayer;

/**
 * The packet a {@link CaptureFile} read last: one object per file, overwritten by each {@link CaptureFile#next()},
 * so reading a file allocates nothing per packet. {@code bytes()[0, capturedLength())} is the frame.
 */
public final class CapturedFrame {
    /** {@link #micros()} of a record whose time cannot be right (a fraction out of range, a time before 1970). */
    public static final long BAD_TIME = -1;

    byte[] bytes = new byte[65536];
    int capturedLength;
    int wireLength;
    long micros;
    CaptureInterface captureInterface;

    /** The frame's bytes from index 0; the array is reused and may be longer than the frame. */
    public byte[] bytes() {
        return bytes;
    }

    /** Bytes of the frame in the file. */
    public int capturedLength() {
        return capturedLength;
    }

    /** Length of the frame on the wire (more than {@link #capturedLength()} when the snap length cut it). */
    public int wireLength() {
        return wireLength;
    }

    /** Capture time in microseconds since 1970, or {@link #BAD_TIME}. */
    public long micros() {
        return micros;
    }

    /** The interface it was captured on (a pcap file has one). */
    public CaptureInterface captureInterface() {
        return captureInterface;
    }

    /** The link layer to strip, or null when its link type cannot be read. */
    public LinkLayer linkLayer() {
        return captureInterface.linkLayer();
    }

    /** Room for {@code n} bytes, keeping none of the old ones. */
    byte[] room(int n) {
        if (bytes.length < n) {
            bytes = new byte[Math.max(n, bytes.length * 2)];
        }
        return bytes;
    }
}
