package dev.trafficbus.capture;

import dev.trafficbus.capture.live.BulkPacketReader;
import dev.trafficbus.packet.LibpcapRequirement;
import dev.trafficbus.packet.LinkLayer;

import dev.trafficbus.cli.UserInputException;
import org.pcap4j.core.BpfProgram;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapNetworkInterface;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Opens a live libpcap handle on an interface with the capture filter set, turning each way it can fail
 * (no libpcap, no such interface, no permission, a filter that does not compile, a link type the forwarder
 * cannot strip) into one line that names the problem and the fix.
 */
final class InterfaceHandle {
    /**
     * The kernel hands over a block of the ring at least this often: on a quiet link a packet otherwise waits in the
     * kernel until its block fills. 50 ms held a packet 25 ms on average at 10,000 packets/s. (The forwarder itself
     * wakes only when a block is handed over, or every {@link BulkPacketReader#IDLE_WAIT_MILLIS} when none is.)
     */
    private static final int READ_TIMEOUT_MILLIS = 10;

    private InterfaceHandle() {
    }

    /** An activated handle on {@code request}'s interface with a ring of {@code bufferBytes}, filtering with {@code filter}. */
    static PcapHandle open(LiveCaptureRequest request, String filter, int bufferBytes) {
        String name = request.interfaceName();
        if (name == null || name.isBlank()) {
            throw new UserInputException("no interface given: name one with --interface, e.g. --interface eth0");
        }
        checkUserFilter(request.userFilter());
        PcapHandle handle;
        try {
            handle = new PcapHandle.Builder(name)
                    .snaplen(request.snaplen())
                    .bufferSize(bufferBytes)
                    .promiscuousMode(request.promiscuous() ? PcapNetworkInterface.PromiscuousMode.PROMISCUOUS
                            : PcapNetworkInterface.PromiscuousMode.NONPROMISCUOUS)
                    .timeoutMillis(READ_TIMEOUT_MILLIS)
                    .timestampPrecision(PcapHandle.TimestampPrecision.MICRO)
                    .build();
        } catch (PcapNativeException e) {
            throw openFailure(name, e);
        } catch (LinkageError e) {
            throw noLibpcap(e);
        }
        try {
            LinkLayer layer = LinkLayer.forDlt(handle.getDlt().value());
            if (layer == null) {
                throw new UserInputException("interface " + name + " has link type " + handle.getDlt().name()
                        + ", which forward cannot read; capture on an Ethernet, loopback or 'any' interface");
            }
            try {
                handle.setFilter(filter, BpfProgram.BpfCompileMode.OPTIMIZE);
            } catch (PcapNativeException e) {
                throw new UserInputException("the capture filter '" + filter + "' does not compile on " + name
                        + " (" + libpcapMessage(e) + ")", e);
            }
            return handle;
        } catch (NotOpenException e) {
            handle.close();
            throw new IllegalStateException("pcap handle closed while opening", e);
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
    }

    /** The link layer of an open handle (checked by {@link #open}). */
    static LinkLayer linkLayer(PcapHandle handle) {
        return LinkLayer.forDlt(handle.getDlt().value());
    }

    /** Compiles the user's part alone first, so a typo is reported as theirs and not as the whole filter's. */
    static void checkUserFilter(String userFilter) {
        if (userFilter == null || userFilter.isBlank()) {
            return;
        }
        // A dead handle, unlike pcap_compile_nopcap, keeps libpcap's reason (e.g. "syntax error").
        try (PcapHandle dead = Pcaps.openDead(DataLinkType.EN10MB, 65535)) {
            Inet4Address anyNetmask = (Inet4Address) InetAddress.getByAddress(new byte[4]);
            dead.compileFilter(userFilter, BpfProgram.BpfCompileMode.OPTIMIZE, anyNetmask).free();
        } catch (UnknownHostException | NotOpenException e) {
            throw new IllegalStateException(e);
        } catch (PcapNativeException e) {
            throw new UserInputException("--filter '" + userFilter + "' is not a valid BPF filter (" + libpcapMessage(e)
                    + "); use tcpdump's filter syntax, e.g. --filter 'net 10.0.0.0/8'", e);
        } catch (LinkageError e) {
            throw noLibpcap(e);
        }
    }

    private static UserInputException openFailure(String name, PcapNativeException e) {
        String message = libpcapMessage(e);
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.contains("no such device") || lower.contains("doesn't exist") || lower.contains("does not exist")) {
            return new UserInputException("interface " + name + " does not exist; capture on one of: "
                    + interfaceNames() + " (see 'ip link')", e);
        }
        if (lower.contains("permission") || lower.contains("not permitted")) {
            return new UserInputException("no permission to capture on " + name + " (" + message + "); run as root"
                    + " or give java the capabilities: setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(command -v java))", e);
        }
        return new UserInputException("cannot capture on " + name + " (" + message + ")", e);
    }

    /** The host's network interfaces (not libpcap's other capture sources such as nflog or dbus) and "any". */
    private static String interfaceNames() {
        try {
            List<String> names = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                    .map(NetworkInterface::getName).sorted().collect(Collectors.toList());
            names.add("any");
            return String.join(", ", names);
        } catch (SocketException | RuntimeException e) {
            return "the interfaces this host has";
        }
    }

    private static UserInputException noLibpcap(LinkageError e) {
        return new UserInputException(LibpcapRequirement.missing("live capture (--interface)"), e);
    }

    /** pcap4j prefixes libpcap's text with its own words; the user wants libpcap's. */
    static String libpcapMessage(PcapNativeException e) {
        String m = e.getMessage() == null ? "libpcap refused it" : e.getMessage();
        return m.startsWith("Error occurred: ") ? m.substring("Error occurred: ".length()) : m;
    }
}
