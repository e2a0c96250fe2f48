package dev.trafficbus.capture;

import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapStat;

/**
 * libpcap's own counters of a live handle (pcap_stats): packets the kernel passed the filter (ps_recv), dropped
 * for lack of buffer space (ps_drop) and dropped by the interface or driver (ps_ifdrop). They are unsigned
 * 32-bit and wrap, so each sample adds its difference to a 64-bit total. {@link #sample} is called from one
 * thread at a time; the totals may be read from any.
 */
final class KernelStats {
    private static final long WRAP = 1L << 32;

    private final PcapHandle handle;
    private long lastReceived;
    private long lastDropped;
    private long lastIfDropped;
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
        received += Math.floorMod(r - lastReceived, WRAP);
        dropped += Math.floorMod(d - lastDropped, WRAP);
        ifDropped += Math.floorMod(i - lastIfDropped, WRAP);
        lastReceived = r;
        lastDropped = d;
        lastIfDropped = i;
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
