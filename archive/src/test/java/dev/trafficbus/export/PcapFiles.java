package dev.trafficbus.export;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;

import java.io.EOFException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Comparator;

import static org.assertj.core.api.Assertions.assertThat;

/** Reads pcap files with pcap4j (libpcap) the way a user's tool would, and finds the shared fixtures. */
final class PcapFiles {
    /** One Ethernet frame: its capture time, the bytes from the IP header on, and its length on the wire. */
    record Frame(long micros, int etherType, byte[] srcMac, byte[] ip, int wireLength) {
        /** Sort key that makes ties in time deterministic. */
        String key() {
            return String.format("%020d/%s", micros, HexFormat.of().formatHex(ip));
        }
    }

    private PcapFiles() {
    }

    static Path testdata(String name) {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("testdata/make-captures.sh"))) {
                return p.resolve("testdata").resolve(name);
            }
        }
        throw new IllegalStateException("testdata/ not found above " + here);
    }

    /** Every frame of an Ethernet pcap file, in file order. */
    static List<Frame> read(Path file) throws Exception {
        List<Frame> frames = new ArrayList<>();
        try (PcapHandle h = Pcaps.openOffline(file.toString(), PcapHandle.TimestampPrecision.MICRO)) {
            if (h.getDlt().value() != 1) {
                throw new IllegalStateException(file + " is not Ethernet but DLT " + h.getDlt().value());
            }
            while (true) {
                byte[] b;
                try {
                    b = h.getNextRawPacketEx();
                } catch (EOFException e) {
                    break;
                }
                Timestamp t = h.getTimestamp();
                long micros = Math.floorDiv(t.getTime(), 1000L) * 1_000_000L + t.getNanos() / 1000;
                int etherType = ((b[12] & 0xFF) << 8) | (b[13] & 0xFF);
                frames.add(new Frame(micros, etherType, Arrays.copyOfRange(b, 6, 12),
                        Arrays.copyOfRange(b, 14, b.length), h.getOriginalLength() - 14));
            }
        }
        return frames;
    }

    /** The frames that are TCP to or from {@code port} over IPv4 or IPv6 (whole, not fragments). */
    static List<Frame> tcpOfPort(List<Frame> frames, int port) {
        PacketView view = new PacketView();
        List<Frame> out = new ArrayList<>();
        for (Frame f : frames) {
            if ((f.etherType() == 0x0800 || f.etherType() == 0x86DD)
                    && view.wrap(f.ip(), 0, f.ip().length, f.wireLength()) == PacketStatus.TCP
                    && (view.srcPort() == port || view.dstPort() == port)) {
                out.add(f);
            }
        }
        return out;
    }

    /** Runs tcpdump -r on the file with an optional filter and returns the number of packets it printed. */
    static int tcpdumpCount(Path file, String filter) throws Exception {
        return tcpdump(file, filter, false).size();
    }

    /** The capture times tcpdump -tt prints for the file's packets, in file order, in microseconds. */
    static List<Long> tcpdumpMicros(Path file) throws Exception {
        List<Long> out = new ArrayList<>();
        for (String line : tcpdump(file, null, true)) {
            String t = line.substring(0, line.indexOf(' '));
            int dot = t.indexOf('.');
            out.add(Long.parseLong(t.substring(0, dot)) * 1_000_000L + Long.parseLong(t.substring(dot + 1)));
        }
        return out;
    }

    private static List<String> tcpdump(Path file, String filter, boolean epochTimes) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("tcpdump", "-nn", "-r", file.toString()));
        if (epochTimes) {
            cmd.add("-tt");
        }
        if (filter != null) {
            cmd.add(filter);
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("tcpdump -r " + file + " failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
            }
            return out.lines().filter(l -> !l.isBlank()).toList();
        } finally {
            p.destroyForcibly();
        }
    }

    /** Same packets (bytes from the IP header on, capture time, length on the wire), in capture-time order. */
    static void assertSameFrames(List<PcapFiles.Frame> actual, List<PcapFiles.Frame> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 1; i < actual.size(); i++) {
            assertThat(actual.get(i).micros()).isGreaterThanOrEqualTo(actual.get(i - 1).micros());
        }
        List<PcapFiles.Frame> a = actual.stream().sorted(Comparator.comparing(PcapFiles.Frame::key)).toList();
        List<PcapFiles.Frame> e = expected.stream().sorted(Comparator.comparing(PcapFiles.Frame::key)).toList();
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.get(i).micros()).as("time of packet %d", i).isEqualTo(e.get(i).micros());
            assertThat(a.get(i).ip()).as("bytes of packet %d", i).isEqualTo(e.get(i).ip());
            assertThat(a.get(i).wireLength()).as("wire length of packet %d", i).isEqualTo(e.get(i).wireLength());
            assertThat(a.get(i).etherType()).isEqualTo((a.get(i).ip()[0] & 0xF0) == 0x60 ? 0x86DD : 0x0800);
        }
    }
}
