package dev.trafficbus.capture;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code forward --pcap} masks credentials before publishing, into a real broker, on testdata/http-credentials.pcap:
 * real curl keep-alive sessions with Authorization, Cookie, X-Api-Key and a query token (nginx answering with
 * Set-Cookie), and a real client that wrote one request head in four writes (TCP_NODELAY, 0.2 s apart), so header
 * lines are split across segments inside a name and inside values. Every record value's bytes, and each
 * connection direction's payload put back together, are searched for the secret strings.
 */
class RedactionForwardTest {
    private static final String CAPTURE = "http-credentials";
    private static TestKafkaCluster cluster;

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

    @Test
    void theDefaultsMaskAuthorizationAndCookiesAndKeepLengthsSequenceNumbersAndChecksums() throws IOException {
        List<TopicPackets.Packet> clear = forward("clear", "--no-default-redaction");
        List<TopicPackets.Packet> masked = forward("masked");
        Map<String, List<String>> secrets = secrets();

        // Unredacted, the topic holds every secret: what the search below must not find is really there to find.
        for (String secret : all(secrets)) {
            assertThat(streams(clear)).as("--no-default-redaction keeps " + secret).anyMatch(s -> s.contains(secret));
        }
        for (String header : List.of("Authorization", "Cookie", "Set-Cookie")) {
            for (String secret : secrets.get(header)) {
                assertThat(records(masked)).as(header + " " + secret + " in a record").noneMatch(v -> v.contains(secret));
                assertThat(streams(masked)).as(header + " " + secret + " in a stream").noneMatch(s -> s.contains(secret));
            }
        }
        for (String kept : List.of("X-Api-Key", "token")) {
            for (String secret : secrets.get(kept)) {
                assertThat(streams(masked)).as("not a default: " + secret).anyMatch(s -> s.contains(secret));
            }
        }

        // Same packets, same lengths, same sequence numbers, valid checksums; bytes differ only where now '*'.
        assertThat(masked).hasSameSizeAs(clear);
        Comparator<TopicPackets.Packet> order = Comparator.comparingLong(TopicPackets.Packet::sequence);
        List<TopicPackets.Packet> a = clear.stream().sorted(order).toList();
        List<TopicPackets.Packet> b = masked.stream().sorted(order).toList();
        int changed = 0;
        for (int i = 0; i < a.size(); i++) {
            byte[] before = a.get(i).ip();
            byte[] after = b.get(i).ip();
            assertThat(after).as("packet %d length", i).hasSameSizeAs(before);
            assertThat(b.get(i).originalLength()).isEqualTo(a.get(i).originalLength());
            PacketView v = view(after);
            assertThat(v.seq()).isEqualTo(view(before).seq());
            assertThat(checksum(after)).as("TCP checksum of packet %d", i).isZero();
            assertThat(checksum(before)).isZero();
            boolean differs = false;
            for (int j = 0; j < before.length; j++) {
                boolean checksumField = j == v.tcpOffset() + 16 || j == v.tcpOffset() + 17;
                if (before[j] != after[j] && !checksumField) {
                    differs = true;
                    assertThat(j).as("only payload bytes change, packet %d", i).isGreaterThanOrEqualTo(v.payloadOffset());
                    assertThat(after[j]).as("a changed byte is a mask").isEqualTo((byte) '*');
                }
            }
            changed += differs ? 1 : 0;
        }
        // 10 curl requests, 12 responses with Set-Cookie, 2 segments of the split head, the whole second request.
        assertThat(changed).as("packets with a masked value").isEqualTo(10 + 12 + 2 + 1);
    }

    @Test
    void aHeaderSplitAcrossSegmentsIsMaskedInEachOfThem() {
        List<TopicPackets.Packet> masked = forward("split");
        List<String> client = payloads(masked, Direction.CLIENT_TO_SERVER).stream()
                .filter(p -> !p.isEmpty()).toList();
        int first = indexOf(client, "GET /cred/split/r01 ");
        assertThat(client.get(first)).endsWith("\r\nAuthori");
        assertThat(client.get(first + 1)).isEqualTo("zation: " + stars("Bearer tbSplitBearerSecret")
                + "\r\nCookie: " + stars("session=tbSplit"));
        assertThat(client.get(first + 2)).isEqualTo(stars("CookieSecret") + "\r\nX-Api-Key: tbSplitApi");
        assertThat(client.get(first + 3)).isEqualTo("KeySecret\r\n\r\n");
        assertThat(client.get(first + 4)).contains("\r\nCookie: " + stars("session=tbWholeCookieSecret") + "\r\n");
    }

    @Test
    void customHeadersAndPatternsAreMaskedTooAndCountedPerRule() throws IOException {
        String[] out = new String[2];
        int code = PcapForwarderKafkaTest.runCommand(out, "--pcap", capture().toString(), "--port", "8080",
                "--source", "custom", "--bootstrap-servers", cluster.bootstrapServers(),
                "--redact-header", "X-Api-Key", "--redact-pattern", "token=[A-Za-z0-9]+");
        assertThat(code).as(out[1]).isZero();
        List<TopicPackets.Packet> masked = TopicPackets.of(PcapForwarderKafkaTest.readAll(cluster.bootstrapServers(),
                "tb.capture.custom"));
        for (String secret : all(secrets())) {
            assertThat(streams(masked)).as(secret).noneMatch(s -> s.contains(secret));
        }
        String split = String.join("", payloads(masked, Direction.CLIENT_TO_SERVER));
        assertThat(split).contains("X-Api-Key: " + stars("tbSplitApiKeySecret") + "\r\n")
                .contains("/cred/s1/r01?" + stars("token=tbQueryToken1") + " HTTP/1.1");
        assertThat(out[0].strip()).endsWith("; redacted: header:Authorization 11, header:Cookie 12,"
                + " header:Set-Cookie 12, header:X-Api-Key 11, pattern:token=[A-Za-z0-9]+ 10");
    }

    @Test
    void theSummaryCountsTheDefaultsAndPrintConfigShowsTheRules() {
        String[] out = new String[2];
        int code = PcapForwarderKafkaTest.runCommand(out, "--pcap", capture().toString(), "--port", "8080",
                "--source", "counted", "--bootstrap-servers", cluster.bootstrapServers());
        assertThat(code).as(out[1]).isZero();
        assertThat(out[0].strip()).endsWith("; redacted: header:Authorization 11, header:Cookie 12, header:Set-Cookie 12");

        code = PcapForwarderKafkaTest.runCommand(out, "--pcap", capture().toString(), "--port", "8080",
                "--bootstrap-servers", "127.0.0.1:9", "--redact-header", "X-Api-Key",
                "--redact-pattern", "token=([A-Za-z0-9]+)", "--print-config");
        assertThat(code).as(out[1]).isZero();
        assertThat(out[0]).containsPattern("--redact-header +X-Api-Key +command line")
                .containsPattern("--redact-pattern +token=\\(\\[A-Za-z0-9\\]\\+\\) +command line")
                .containsPattern("--no-default-redaction +false +default");
    }

    private static List<TopicPackets.Packet> forward(String source, String... options) {
        List<String> args = new ArrayList<>(List.of("--pcap", capture().toString(), "--port", "8080",
                "--source", source, "--bootstrap-servers", cluster.bootstrapServers(), "--batch-window", "50ms"));
        args.addAll(List.of(options));
        String[] out = new String[2];
        int code = PcapForwarderKafkaTest.runCommand(out, args.toArray(new String[0]));
        assertThat(code).as(out[1]).isZero();
        return TopicPackets.of(PcapForwarderKafkaTest.readAll(cluster.bootstrapServers(), "tb.capture." + source));
    }

    static Path capture() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path file = p.resolve("testdata/" + CAPTURE + ".pcap");
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new IllegalStateException("testdata/" + CAPTURE + ".pcap not found (made by testdata/make-captures.sh)");
    }

    /** The "# secret HEADER VALUE" lines of the capture's .expected file, by header. */
    static Map<String, List<String>> secrets() throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Path expected = capture().resolveSibling(CAPTURE + ".expected");
        for (String line : Files.readAllLines(expected)) {
            if (line.startsWith("# secret ")) {
                String[] f = line.substring("# secret ".length()).trim().split(" ");
                out.computeIfAbsent(f[0], k -> new ArrayList<>()).add(f[1]);
            }
        }
        assertThat(out).containsKeys("Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "token");
        return out;
    }

    private static List<String> all(Map<String, List<String>> secrets) {
        return secrets.values().stream().flatMap(List::stream).toList();
    }

    /** Every record value as Latin-1 text. */
    private static List<String> records(List<TopicPackets.Packet> packets) {
        return packets.stream().map(TopicPackets.Packet::record).distinct()
                .map(r -> new String(r.value(), StandardCharsets.ISO_8859_1)).toList();
    }

    /** Each direction of each connection: its payload bytes in sequence order, retransmissions once. */
    private static List<String> streams(List<TopicPackets.Packet> packets) {
        Map<String, TreeMap<Long, byte[]>> flows = new LinkedHashMap<>();
        for (TopicPackets.Packet p : packets) {
            PacketView v = view(p.ip());
            if (v.payloadLength() == 0) {
                continue;
            }
            String key = new String(p.record().key(), StandardCharsets.ISO_8859_1) + p.direction();
            flows.computeIfAbsent(key, k -> new TreeMap<>()).put(v.seq(),
                    java.util.Arrays.copyOfRange(p.ip(), v.payloadOffset(), v.payloadOffset() + v.payloadLength()));
        }
        List<String> out = new ArrayList<>();
        for (TreeMap<Long, byte[]> segments : flows.values()) {
            ByteArrayOutputStream s = new ByteArrayOutputStream();
            segments.values().forEach(s::writeBytes);
            out.add(s.toString(StandardCharsets.ISO_8859_1));
        }
        return out;
    }

    /** The payloads of one direction, in capture order. */
    private static List<String> payloads(List<TopicPackets.Packet> packets, Direction direction) {
        return packets.stream().filter(p -> p.direction() == direction)
                .sorted(Comparator.comparingLong(TopicPackets.Packet::sequence)).map(p -> {
                    PacketView v = view(p.ip());
                    return new String(p.ip(), v.payloadOffset(), v.payloadLength(), StandardCharsets.ISO_8859_1);
                }).toList();
    }

    private static int indexOf(List<String> payloads, String prefix) {
        for (int i = 0; i < payloads.size(); i++) {
            if (payloads.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no payload starts with " + prefix);
    }

    private static String stars(String s) {
        return "*".repeat(s.length());
    }

    private static PacketView view(byte[] ip) {
        PacketView v = new PacketView();
        assertThat(v.wrap(ip, 0, ip.length)).isEqualTo(PacketStatus.TCP);
        return v;
    }

    /** The TCP checksum over pseudo-header and segment of an IPv4 packet: 0 when the checksum field is right. */
    static int checksum(byte[] ip) {
        int ihl = (ip[0] & 0x0F) * 4;
        int total = ((ip[2] & 0xFF) << 8) | (ip[3] & 0xFF);
        long sum = 0;
        for (int i = 12; i < 20; i += 2) {
            sum += ((ip[i] & 0xFF) << 8) | (ip[i + 1] & 0xFF);
        }
        sum += 6 + total - ihl;
        for (int i = ihl; i < total; i += 2) {
            sum += ((ip[i] & 0xFF) << 8) | (i + 1 < total ? ip[i + 1] & 0xFF : 0);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }
}
