package dev.trafficbus.capture;

import dev.trafficbus.bus.TestKafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code forward --pcap} on the file formats libpcap could not read or that need no libpcap now: pcapng with several
 * link types, an interface it cannot read, gzip through standard input, a damaged file; into a real broker.
 */
class PcapFormatsForwardTest {
    private static TestKafkaCluster cluster;

    @TempDir
    Path temp;

    @BeforeAll
    static void startBroker() throws Exception {
        ForwardMain.quietClientLogs();
        cluster = TestKafkaCluster.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return PcapForwarderKafkaTest.readAll(cluster.bootstrapServers(), topic);
    }

    private static int forward(String[] out, Path file, String source) {
        return PcapForwarderKafkaTest.runCommand(out, "--pcap", file.toString(), "--port", "8080", "--source", source,
                "--bootstrap-servers", cluster.bootstrapServers());
    }

    @Test
    void everyServicePacketOfAPcapngWithFourInterfacesIsPublished() {
        // libpcap published nothing of this file (CaptureFileFormatsTest): it stops at the second interface.
        List<Fixtures.Expected> parts = List.of(Fixtures.ETHERNET, Fixtures.SLL2, Fixtures.RAW, Fixtures.SNAPLEN80);
        int read = parts.stream().mapToInt(Fixtures.Expected::total).sum();
        int published = parts.stream().mapToInt(Fixtures.Expected::published).sum();
        int notPort = parts.stream().mapToInt(Fixtures.Expected::notPort).sum();
        int notTcp = parts.stream().mapToInt(Fixtures.Expected::notTcp).sum();
        int truncated = parts.stream().mapToInt(Fixtures.Expected::truncated).sum();
        for (String name : List.of("multi-link.pcapng", "multi-link-be.pcapng")) {
            String source = name.replace('.', '-');
            String[] out = new String[2];
            int code = forward(out, Fixtures.path(name), source);
            assertThat(code).as(out[1]).isZero();
            assertThat(out[0].strip()).startsWith("forward " + source + ": " + read + " packets read, " + published
                    + " published in ").endsWith("; skipped: not-ip 2, not-tcp " + notTcp + ", ip-fragment 4,"
                    + " truncated " + truncated + ", not-port " + notPort);
            assertThat(TopicPackets.of(readAll("tb.capture." + source))).hasSize(published);
        }
    }

    @Test
    void packetsOfAnInterfaceWhoseLinkTypeCannotBeReadAreCountedAsLinkType() throws Exception {
        byte[] pcapng = Files.readAllBytes(Fixtures.path("multi-link.pcapng"));
        int sll2 = CaptureFileFormatsTest.blockEnd(pcapng, 3); // SHB, DSB, the Ethernet IDB, then the SLL2 IDB
        assertThat(ByteBuffer.wrap(pcapng).order(ByteOrder.LITTLE_ENDIAN).getShort(sll2 + 8)).isEqualTo((short) 276);
        ByteBuffer.wrap(pcapng).order(ByteOrder.LITTLE_ENDIAN).putShort(sll2 + 8, (short) 105);
        Path mixed = Files.write(temp.resolve("with-wifi.pcapng"), pcapng);
        String[] out = new String[2];
        int code = forward(out, mixed, "with-wifi");
        assertThat(code).isZero();
        int published = Fixtures.ETHERNET.published() + Fixtures.RAW.published() + Fixtures.SNAPLEN80.published();
        assertThat(out[0]).contains(" " + published + " published in ").contains("link-type " + Fixtures.SLL2.total());
        assertThat(TopicPackets.of(readAll("tb.capture.with-wifi"))).hasSize(published);
    }

    @Test
    void gzipThroughStandardInputIsReadWithADash() throws Exception {
        Path gz = Files.write(temp.resolve("in.pcap.gz"),
                CaptureFileFormatsTest.gzip(Files.readAllBytes(Fixtures.path("ethernet-nsec-be.pcap"))));
        Path output = temp.resolve("out.txt");
        Process p = new ProcessBuilder(LiveCaptureTest.forwardCommand(List.of(), "--pcap", "-", "--port", "8080",
                "--bootstrap-servers", cluster.bootstrapServers()))
                .redirectInput(gz.toFile()).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("forward --pcap - finished").isTrue();
        String text = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        // The source of standard input is "stdin".
        assertThat(text.strip()).startsWith("forward stdin: " + Fixtures.ETHERNET.total() + " packets read, "
                + Fixtures.ETHERNET.published() + " published in ");
        assertThat(TopicPackets.of(readAll("tb.capture.stdin"))).hasSize(Fixtures.ETHERNET.published());
    }

    @Test
    void aDamagedFileIsSaidToBeDamagedNotTruncated() throws Exception {
        byte[] pcap = Files.readAllBytes(Fixtures.path("ethernet.pcap"));
        int offset = 24;
        for (int i = 0; i < 40; i++) {
            offset += 16 + ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN).getInt(offset + 8);
        }
        ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN).putInt(offset + 8, -1);
        Path bad = Files.write(temp.resolve("damaged.pcap"), pcap);
        String[] out = new String[2];
        int code = forward(out, bad, "damaged");
        assertThat(code).isEqualTo(2);
        assertThat(out[1].strip()).isEqualTo("trafficbus forward: file " + bad + " is damaged after 40 packets (the next"
                + " record claims 4294967295 captured bytes, more than the file's snap length (262144) and any capture"
                + " holds); published what was complete");
        assertThat(out[0]).contains("forward damaged: 40 packets read, ").contains("; file damaged").doesNotContain("truncated");
    }
}
