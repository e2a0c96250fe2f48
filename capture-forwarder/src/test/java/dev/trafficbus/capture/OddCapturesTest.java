package dev.trafficbus.capture;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.cli.CommandOutput;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The odd captures of testdata/odd (made by testdata/make-odd-captures.py, counted by tshark): each imports
 * without a stack trace or a hang, read = published + skipped, every skip under its reason, and the link types
 * and times public corpora hold are read or refused with the reason.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class OddCapturesTest {
    static final Path ODD = Path.of("../testdata/odd");
    private static TestKafkaCluster cluster;
    private static Map<String, Integer> tshark;

    @BeforeAll
    static void start() throws Exception {
        ForwardMain.quietClientLogs();
        cluster = TestKafkaCluster.start();
        tshark = new HashMap<>();
        for (String line : Files.readAllLines(ODD.resolve("odd-captures.expected"))) {
            if (!line.startsWith("#") && !line.isBlank()) {
                String[] f = line.split(" ");
                tshark.put(f[0], Integer.parseInt(f[1]));
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Properties kafka() {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        return p;
    }

    /** file, packets published, skips as reason=count (space-separated, '-' for none), read to its end. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "big-endian.pcap, 8, -, true",
        "nanoseconds.pcap, 8, -, true",
        "nflog-little-endian.pcap, 16, not-ip=1, true",
        "nflog-big-endian.pcap, 8, -, true",
        "ppp.pcap, 16, not-ip=1, true",
        "ppp-serial.pcap, 8, -, true",
        "ip-options-and-ipv6-extension.pcap, 16, -, true",
        "future-timestamp.pcap, 8, timestamp-out-of-range=1, true",
        "microseconds-overflow.pcap, 6, malformed=2, true",
        "snaplen-60.pcap, 6, truncated=2, true",
        "empty-record.pcap, 8, truncated=1, true",
        "cut-last-record.pcap, 7, -, false",
        "no-answer.pcap, 8, -, true",
    })
    void everyPacketIsPublishedOrCountedByReason(String file, long published, String skips, boolean complete) {
        String source = file.replace(".pcap", "");
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(ODD.resolve(file), Set.of(8080), source,
                kafka(), false));
        Map<String, Long> skipped = s.skippedByReason().entrySet().stream().filter(e -> e.getValue() > 0)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertThat(s.publishErrors()).as(file).isZero();
        assertThat(s.packetsRead()).as(file + ": read = published + skipped")
                .isEqualTo(s.packetsPublished() + skipped.values().stream().mapToLong(Long::longValue).sum());
        assertThat(s.packetsPublished()).as(file).isEqualTo(published);
        assertThat(skipped).as(file).isEqualTo(parse(skips));
        assertThat(s.fileComplete()).as(file).isEqualTo(complete);
        assertThat(PcapForwarderKafkaTest.readAll(cluster.bootstrapServers(), "tb.capture." + source).stream()
                .mapToLong(r -> packets(r.value())).sum())
                .as(file + " in the topic").isEqualTo(published);
        // Where tshark reads the file, what it calls TCP of port 8080 is published or skipped for its time or size.
        int byTshark = tshark.get(file);
        if (byTshark > 0 && !file.startsWith("nflog-big")) {
            assertThat(published + skipped.getOrDefault("timestamp-out-of-range", 0L)
                    + skipped.getOrDefault("malformed", 0L) + skipped.getOrDefault("truncated", 0L)
                    - (file.startsWith("empty") ? 1 : 0)).as(file + " against tshark").isEqualTo(byTshark);
        }
    }

    @Test
    void aLinkTypeNobodyCanReadIsRefusedNamingIt() {
        CommandOutput o = CommandOutput.run(new ForwardCommand(), "--pcap", ODD.resolve("unknown-link-type.pcap").toString(),
                "--port", "8080", "--bootstrap-servers", cluster.bootstrapServers());
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.hasStackTrace()).isFalse();
        assertThat(o.err()).contains("has link type").contains("147").contains("PPP and NFLOG captures");
    }

    @Test
    void everyOddCaptureIsCovered() throws IOException {
        try (var files = Files.list(ODD)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".pcap")).sorted())
                    .containsExactlyInAnyOrderElementsOf(tshark.keySet());
        }
    }

    private static long packets(byte[] value) {
        CapturedPacketCodec.Reader r = new CapturedPacketCodec.Reader().read(value);
        long n = 1;
        while (r.advance()) {
            n++;
        }
        return n;
    }

    private static Map<String, Long> parse(String skips) {
        if (skips.equals("-")) {
            return Map.of();
        }
        return Arrays.stream(skips.split(" ")).map(kv -> kv.split("="))
                .collect(Collectors.toMap(kv -> kv[0], kv -> Long.parseLong(kv[1])));
    }
}
