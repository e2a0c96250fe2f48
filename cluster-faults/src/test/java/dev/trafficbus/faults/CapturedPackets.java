package dev.trafficbus.faults;

import dev.trafficbus.capture.file.CaptureFile;
import dev.trafficbus.capture.file.CapturedFrame;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.export.ExportCommand;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TCP packets of a capture file as a multiset: each distinct packet (its IP bytes, optionally with its capture
 * time) and how often the file holds it. Two captures compare equal when they hold the same packets the same number
 * of times, whatever their order.
 */
final class CapturedPackets {
    private CapturedPackets() {
    }

    /** The testdata/ file {@code name}, found above the working directory. */
    static Path testdata(String name) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("testdata/make-captures.sh"))) {
                return p.resolve("testdata").resolve(name);
            }
        }
        throw new IllegalStateException("testdata/ not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * The TCP packets to or from one of {@code ports} in {@code file}: key "micros/hex of the IP packet" (or just the
     * hex without {@code withTime}) to how many times the file holds it.
     */
    static Map<String, Integer> tcp(Path file, Set<Integer> ports, boolean withTime) {
        Map<String, Integer> out = new TreeMap<>();
        PacketView view = new PacketView();
        HexFormat hex = HexFormat.of();
        try (CaptureFile in = CaptureFile.open(file)) {
            while (in.next()) {
                CapturedFrame f = in.frame();
                int ip = f.linkLayer().ipOffset(f.bytes(), f.capturedLength());
                if (ip < 0 || view.wrap(f.bytes(), ip, f.capturedLength() - ip, f.wireLength() - ip) != PacketStatus.TCP
                        || !(ports.contains(view.srcPort()) || ports.contains(view.dstPort()))) {
                    continue;
                }
                String bytes = hex.formatHex(f.bytes(), ip, f.capturedLength());
                out.merge(withTime ? f.micros() + "/" + bytes : bytes, 1, Integer::sum);
            }
        }
        return out;
    }

    /** Exports {@code topic} from start to end with {@code trafficbus export} into {@code out}; asserts it succeeded. */
    static CommandOutput export(ThreeBrokers cluster, String topic, Path out) {
        CommandOutput r = CommandOutput.run(new ExportCommand(), "--topic", topic, "-o", out.toString(),
                "--bootstrap-servers", cluster.bootstrapServers());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.hasStackTrace()).as(r.err()).isFalse();
        return r;
    }

    /** Packets held more than once. */
    static long duplicates(Map<String, Integer> packets) {
        return packets.values().stream().mapToLong(n -> n - 1).sum();
    }

    static long total(Map<String, Integer> packets) {
        return packets.values().stream().mapToLong(Integer::longValue).sum();
    }
}
