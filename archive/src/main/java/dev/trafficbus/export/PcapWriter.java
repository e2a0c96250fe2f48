package dev.trafficbus.export;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes the classic pcap format (microsecond timestamps, little-endian, link type Ethernet) that tcpdump, tshark and
 * Wireshark open. Captured packets are bare IP, so each gets a synthesized Ethernet header: fixed locally administered
 * MAC addresses for the server and the client side (direction tells which is which) and the ethertype of its IP version.
 */
public final class PcapWriter implements Closeable {
    /**
     * Largest frame a record may hold. IPv4 packets (≤ 65535 bytes) always fit; a longer one (an IPv6 jumbogram) is
     * cut to it with its length on the wire kept, as a capture would: libpcap rejects a file holding a longer record.
     */
    public static final int SNAPLEN = 262_144;
    private static final int LINKTYPE_ETHERNET = 1;
    private static final int ETHERNET_HEADER = 14;
    /** 02:00:00:00:00:01, locally administered: the server side of every flow. */
    static final byte[] SERVER_MAC = {0x02, 0, 0, 0, 0, 0x01};
    /** 02:00:00:00:00:02: the client side. */
    static final byte[] CLIENT_MAC = {0x02, 0, 0, 0, 0, 0x02};

    private final OutputStream out;
    private final byte[] header = new byte[16 + ETHERNET_HEADER];
    private long packets;
    private long bytes;

    /** Writes the file header at once; the stream is buffered here, and closed by {@link #close()}. */
    public PcapWriter(OutputStream target) throws IOException {
        this.out = new BufferedOutputStream(target, 1 << 20);
        byte[] global = new byte[24];
        putInt(global, 0, 0xa1b2c3d4);
        putShort(global, 4, 2);
        putShort(global, 6, 4);
        // thiszone and sigfigs stay 0: timestamps are UTC.
        putInt(global, 16, SNAPLEN);
        putInt(global, 20, LINKTYPE_ETHERNET);
        out.write(global);
        bytes = global.length;
    }

    /**
     * Appends one IP packet {@code packet[off, off+len)} captured at {@code timestampMicros} (≥ 0, before 2106), whose
     * length on the wire was {@code originalLength}; bytes beyond {@link #SNAPLEN} are left out.
     */
    public void write(long timestampMicros, boolean clientToServer, byte[] packet, int off, int len, int originalLength)
            throws IOException {
        int ipVersion = len > 0 ? (packet[off] & 0xF0) >>> 4 : 0;
        int wire = Math.max(len, originalLength);
        len = Math.min(len, SNAPLEN - ETHERNET_HEADER);
        putInt(header, 0, (int) (timestampMicros / 1_000_000L));
        putInt(header, 4, (int) (timestampMicros % 1_000_000L));
        putInt(header, 8, len + ETHERNET_HEADER);
        // Unsigned in the file: a length near 2^31 wraps to the right 32-bit value.
        putInt(header, 12, wire + ETHERNET_HEADER);
        System.arraycopy(clientToServer ? SERVER_MAC : CLIENT_MAC, 0, header, 16, 6);
        System.arraycopy(clientToServer ? CLIENT_MAC : SERVER_MAC, 0, header, 22, 6);
        int ethertype = ipVersion == 6 ? 0x86DD : 0x0800;
        header[28] = (byte) (ethertype >>> 8);
        header[29] = (byte) ethertype;
        out.write(header);
        out.write(packet, off, len);
        packets++;
        bytes += header.length + len;
    }

    /** True when {@link #write} can represent the time: pcap stores unsigned 32-bit seconds. */
    public static boolean representable(long timestampMicros) {
        return timestampMicros >= 0 && timestampMicros / 1_000_000L <= 0xFFFF_FFFFL;
    }

    public long packets() {
        return packets;
    }

    /** Bytes written so far, file header included. */
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
    }

    private static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }
}
