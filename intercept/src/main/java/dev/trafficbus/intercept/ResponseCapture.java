package dev.trafficbus.intercept;

import dev.trafficbus.capture.live.BulkPacketReader;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.packet.LibpcapRequirement;
import dev.trafficbus.packet.LinkLayer;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.pcap4j.core.BpfProgram;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapAddress;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapNetworkInterface;
import org.pcap4j.core.Pcaps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Live capture of the test server's responses on one interface: libpcap with the user's BPF filter, read in bulk
 * as the forwarder reads it ({@link BulkPacketReader}), link layer stripped and IP/TCP headers read from the raw
 * bytes, each TCP packet handed to the {@link ResponseRouter}. {@link #open} must run in the network namespace to
 * capture in; {@link #run} blocks until {@link #stop}.
 */
final class ResponseCapture implements BulkPacketReader.FrameSink, AutoCloseable {
    /** Whole packets even when the sender used segmentation offload (super-packets of up to 64 KiB and more). */
    static final int SNAPLEN = 262144;
    private static final int BUFFER_BYTES = 32 << 20;
    /** Longest a captured packet waits in the kernel for more to be handed over with it. */
    private static final int BLOCK_WAIT_MILLIS = 1;
    private static final long ERROR_LOG_NANOS = 10_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(ResponseCapture.class);

    private final PcapHandle handle;
    private final BulkPacketReader reader;
    private final LinkLayer linkLayer;
    private final ResponseRouter router;
    private final InterceptCounters counters;
    private final boolean withPayload;
    private final String filter;
    private final PacketView view = new PacketView();
    private volatile boolean stopping;
    /** libpcap's kernel drop count read just before the handle closed; -1 while it is open. */
    private long kernelDropsAtClose = -1;
    private boolean closed;
    private long lastErrorLog = System.nanoTime() - ERROR_LOG_NANOS;

    private ResponseCapture(PcapHandle handle, LinkLayer linkLayer, ResponseRouter router, InterceptCounters counters,
                            boolean withPayload, String filter) {
        this.handle = handle;
        this.reader = new BulkPacketReader(handle, SNAPLEN);
        this.filter = filter;
        this.linkLayer = linkLayer;
        this.router = router;
        this.counters = counters;
        this.withPayload = withPayload;
    }

    /** Opens {@code interfaceName} with {@code filter}; every problem a user can fix is a UserInputException. */
    static ResponseCapture open(String interfaceName, String filter, ResponseRouter router, InterceptCounters counters,
                                boolean withPayload) {
        PcapNetworkInterface nif;
        try {
            nif = Pcaps.getDevByName(interfaceName);
        } catch (PcapNativeException e) {
            throw new UserInputException("--interface " + interfaceName + ": " + message(e));
        } catch (LinkageError e) {
            // pcap4j's first call loads libpcap; without it, its class initialisation fails.
            throw new UserInputException(LibpcapRequirement.missing("capturing the responses"), e);
        }
        if (nif == null) {
            throw new UserInputException("--interface " + interfaceName + ": no such interface (available: "
                    + String.join(", ", interfaceNames()) + ")");
        }
        PcapHandle handle;
        try {
            handle = new PcapHandle.Builder(interfaceName)
                    .snaplen(SNAPLEN)
                    .promiscuousMode(PcapNetworkInterface.PromiscuousMode.NONPROMISCUOUS)
                    // Packets come in blocks, handed over when full or BLOCK_WAIT_MILLIS after their first packet:
                    // immediate mode woke this thread for nearly every packet (on P4 short 44 % of its CPU, a third
                    // of the whole intercept's). A relayed answer waits that much longer at most.
                    .timeoutMillis(BLOCK_WAIT_MILLIS)
                    .immediateMode(false)
                    .bufferSize(BUFFER_BYTES)
                    .build();
        } catch (PcapNativeException e) {
            String m = message(e);
            if (m.contains("ermission") || m.contains("not permitted")) {
                throw new UserInputException("--interface " + interfaceName + ": capturing needs root or CAP_NET_RAW ("
                        + m + ")");
            }
            throw new UserInputException("--interface " + interfaceName + ": cannot capture: " + m);
        }
        try {
            LinkLayer layer = LinkLayer.forDlt(handle.getDlt().value());
            if (layer == null) {
                throw new UserInputException("--interface " + interfaceName + ": link type "
                        + handle.getDlt() + " is not supported (Ethernet, Linux cooked, loopback and raw IP are)");
            }
            handle.setFilter(filter, BpfProgram.BpfCompileMode.OPTIMIZE);
            return new ResponseCapture(handle, layer, router, counters, withPayload, filter);
        } catch (PcapNativeException e) {
            handle.close();
            throw new UserInputException("--filter '" + filter + "': libpcap cannot use it: " + message(e));
        } catch (NotOpenException | RuntimeException e) {
            handle.close();
            if (e instanceof UserInputException u) {
                throw u;
            }
            throw new IllegalStateException("capture handle closed while opening", e);
        }
    }

    /**
     * Leaves intercept's own channel, listening on {@code listen}, out of the capture (see {@link OwnChannelFilter}).
     * Call before {@link #run}, in the capture's network namespace.
     */
    void excludeOwnChannel(InetSocketAddress listen) {
        String combined = OwnChannelFilter.exclude(filter, listen, localAddresses());
        if (combined.equals(filter)) {
            return;
        }
        try {
            handle.setFilter(combined, BpfProgram.BpfCompileMode.OPTIMIZE);
        } catch (PcapNativeException | NotOpenException e) {
            LOG.warn("cannot keep intercept's own channel out of the capture ({}); with a filter that matches it, its"
                    + " packets are counted as no-route", e.getMessage());
        }
    }

    private static List<InetAddress> localAddresses() {
        List<InetAddress> out = new ArrayList<>();
        try {
            for (PcapNetworkInterface n : Pcaps.findAllDevs()) {
                for (PcapAddress a : n.getAddresses()) {
                    if (a.getAddress() != null) {
                        out.add(a.getAddress());
                    }
                }
            }
        } catch (PcapNativeException e) {
            LOG.warn("cannot list this host's addresses: {}", message(e));
        }
        return out;
    }

    /** Captures until {@link #stop}; returns normally then, throws when libpcap fails (e.g. the interface went away). */
    void run() throws PcapNativeException {
        while (!stopping) {
            int n = reader.read(this);
            if (n == BulkPacketReader.BROKEN) {
                return;
            }
            if (n == BulkPacketReader.FAILED) {
                if (stopping) {
                    return;
                }
                throw new PcapNativeException("capturing on the interface failed: " + reader.error());
            }
        }
    }

    /** Makes {@link #run} return; callable from any thread. */
    void stop() {
        stopping = true;
        try {
            handle.breakLoop();
        } catch (NotOpenException e) {
            // already closed: nothing is looping
        }
    }

    @Override
    public void frame(byte[] frame, int capturedLength, int wireLength, long micros) {
        counters.countCaptured();
        int ipOffset = linkLayer.ipOffset(frame, capturedLength);
        if (ipOffset < 0) {
            counters.countDropped(ipOffset == LinkLayer.TRUNCATED ? DropReason.TRUNCATED : DropReason.NOT_IP);
            return;
        }
        int captured = capturedLength - ipOffset;
        int wire = Math.max(captured, wireLength - ipOffset);
        PacketStatus status = view.wrap(frame, ipOffset, captured, wire);
        if (status != PacketStatus.TCP) {
            counters.countDropped(dropReason(status));
            return;
        }
        int length = withPayload ? view.ipLength() : view.payloadOffset() - ipOffset;
        if (length > 0xFFFF) {
            counters.countDropped(DropReason.TOO_LARGE);
            return;
        }
        try {
            router.route(frame, ipOffset, length, view.dstAddressOffset(), view.addressLength(), view.dstPort(),
                    System.nanoTime());
        } catch (RuntimeException e) {
            // One packet's failure must not end the capture: counted, logged now and then, and the capture goes on.
            counters.countDropped(DropReason.RELAY_ERROR);
            long now = System.nanoTime();
            if (now - lastErrorLog > ERROR_LOG_NANOS) {
                lastErrorLog = now;
                LOG.error("relaying a captured packet failed", e);
            }
        }
    }

    private static DropReason dropReason(PacketStatus status) {
        switch (status) {
            case NOT_IP: return DropReason.NOT_IP;
            case NOT_TCP: return DropReason.NOT_TCP;
            case FRAGMENT: return DropReason.FRAGMENT;
            case TRUNCATED: return DropReason.TRUNCATED;
            default: return DropReason.MALFORMED;
        }
    }

    @Override
    public void unreadable(int count) {
        counters.countCaptured(count);
        counters.countDropped(DropReason.UNREADABLE, count);
    }

    /** Packets the kernel dropped before libpcap read them (its buffer was full), or -1 when unknown. */
    synchronized long kernelDrops() {
        if (closed) {
            return kernelDropsAtClose; // the final summary is printed after the handle closed
        }
        try {
            return handle.getStats().getNumPacketsDropped();
        } catch (PcapNativeException | NotOpenException | RuntimeException e) {
            return -1;
        }
    }

    String linkDescription() {
        return linkLayer.description();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        kernelDropsAtClose = kernelDrops();
        closed = true;
        reader.close();
        handle.close();
    }

    private static List<String> interfaceNames() {
        List<String> names = new ArrayList<>();
        try {
            for (PcapNetworkInterface n : Pcaps.findAllDevs()) {
                names.add(n.getName());
            }
        } catch (PcapNativeException e) {
            names.add("none found: " + message(e));
        }
        return names;
    }

    private static String message(PcapNativeException e) {
        String m = e.getMessage() == null ? "libpcap refused it" : e.getMessage();
        return m.replaceFirst("^Error occurred( in \\w+)?: ", "");
    }
}
