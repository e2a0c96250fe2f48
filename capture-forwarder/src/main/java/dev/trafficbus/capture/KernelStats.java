package dev.trafficbus.capture;

import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapStat;

/**
 * libpcap's own counters of a live capture (pcap_stats): packets the kernel passed the filter (ps_recv, drops
 * included), dropped for lack of buffer space (ps_drop) and dropped by the interface or driver (ps_ifdrop). They
 * are unsigned 32-bit and wrap, so each sample adds its difference to a 64-bit total. When a resized ring replaces
 * the handle ({@link #replace}), the packets both rings took are counted once ({@link #duplicates}), and so are the
 * interface's drops of the hand-over. {@link #sample}
 * is called from one thread at a time; the totals may be read from any.
 */
final class KernelStats {
    private static final long WRAP = 1L << 32;

    private PcapHandle handle;
    private long lastReceived;
    private long lastDropped;
    private long lastIfDropped;
    // The current handle's totals, and those of the handles before it.
    private long handleReceived;
    private long handleDropped;
    private long handleIfDropped;
    private long baseReceived;
    private long baseDropped;
    private long baseIfDropped;
    private volatile long received;
    private volatile long dropped;
    private volatile long ifDropped;

    KernelStats(PcapHandle handle) {
        this.handle = handle;
    }

    /** Reads the handle's counters now; a handle already closed or refusing keeps the last totals. */
    synchronized void sample() {
        PcapStat stat;
        try {
            stat = handle.getStats();
        } catch (PcapNativeException | NotOpenException | RuntimeException e) {
            return;
        }
        long r = stat.getNumPacketsReceived();
        long d = stat.getNumPacketsDropped();
        long i = stat.getNumPacketsDroppedByIf();
        handleReceived += Math.floorMod(r - lastReceived, WRAP);
        handleDropped += Math.floorMod(d - lastDropped, WRAP);
        handleIfDropped += Math.floorMod(i - lastIfDropped, WRAP);
        lastReceived = r;
        lastDropped = d;
        lastIfDropped = i;
        publish();
    }

    /** Counts from {@code next} on; the old handle, still open, has stopped taking packets and been read to its end. */
    synchronized void replace(PcapHandle next) {
        sample();
        baseReceived += handleReceived;
        baseDropped += handleDropped;
        baseIfDropped += handleIfDropped;
        handle = next;
        handleReceived = handleDropped = handleIfDropped = 0;
        lastReceived = lastDropped = 0;
        // ps_ifdrop is the interface's counter since the handle opened, and the new handle opened while the old
        // one still counted: only the interface's drops from now on are new.
        lastIfDropped = 0;
        try {
            lastIfDropped = next.getStats().getNumPacketsDroppedByIf();
        } catch (PcapNativeException | NotOpenException | RuntimeException e) {
            // counted from its opening, as before
        }
        publish();
    }

    /** {@code count} packets the new ring gave were skipped, the old one having given them. */
    synchronized void duplicates(long count) {
        baseReceived -= count;
        publish();
    }

    private void publish() {
        received = baseReceived + handleReceived;
        dropped = baseDropped + handleDropped;
        ifDropped = baseIfDropped + handleIfDropped;
    }

    /** ps_recv: packets that passed the filter in the kernel, captured or not. */
    long received() {
        return received;
    }

    /** ps_drop: packets the kernel dropped because the capture buffer was full (raise --buffer-size). */
    long dropped() {
        return dropped;
    }

    /** ps_ifdrop: packets the interface or its driver dropped. */
    long interfaceDropped() {
        return ifDropped;
    }
}
