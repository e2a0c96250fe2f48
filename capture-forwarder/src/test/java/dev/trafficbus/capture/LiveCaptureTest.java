package dev.trafficbus.capture;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Live capture with real parts: nginx in a server namespace, curl in a client namespace, the capture on the
 * server's veth, a real broker. Needs root; skips with the reason otherwise.
 */
class LiveCaptureTest {
    private static final Set<Integer> PORTS = Set.of(NetnsLab.HTTP_PORT);
    private static TestKafkaCluster cluster;
    private static NetnsLab lab;

    @TempDir
    static Path shared;

    @TempDir
    Path temp;

    @BeforeAll
    static void setUp() throws Exception {
        String reason = NetnsLab.unavailableReason();
        assumeTrue(reason == null, reason);
        ForwardMain.quietClientLogs();
        lab = NetnsLab.start(shared);
        cluster = TestKafkaCluster.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (lab != null) {
            lab.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Properties kafka(String servers) {
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        return p;
    }

    @Test
    void everyPacketTcpdumpSeesIsPublishedAndReplayingTheTopicReproducesEveryRequest() throws Exception {
        String source = "live-burst";
        String filter = CaptureFilter.build(PORTS, false, cluster.bootstrapServers(), null);
        Path dump = temp.resolve("tcpdump.pcap");
        LiveCaptureRequest request = LiveCaptureRequest.of(lab.captureInterface(), PORTS, source,
                kafka(cluster.bootstrapServers())).withMetricsPort(0);
        LiveSummary summary;
        List<String> paths;
        String scrape;
        String status;
        Process tcpdump = startTcpdump(dump, filter);
        try (LiveCapture capture = LiveCapture.open(request)) {
            RunningCapture running = RunningCapture.start(capture);
            paths = lab.burst("b", 20, 10);
            Thread.sleep(1000); // the last FIN/ACKs
            status = capture.statusLine();
            scrape = httpGet("http://127.0.0.1:" + capture.metricsPort() + "/metrics");
            summary = running.stop();
        } finally {
            stopTcpdump(tcpdump);
        }
        long seen = countPackets(dump);

        assertThat(paths).hasSize(200);
        assertThat(seen).as("packets tcpdump saw").isGreaterThan(200 * 2);
        assertThat(summary.captured()).isEqualTo(seen);
        assertThat(summary.published()).isEqualTo(seen);
        assertThat(summary.dropped()).isZero();
        assertThat(summary.skipped()).isZero();
        assertThat(summary.publishErrors()).isZero();
        assertThat(summary.kernelDropped()).isZero();
        assertThat(summary.kernelReceived()).isEqualTo(seen);
        assertThat(summary.accounted()).isTrue();
        assertThat(summary.summaryLine()).startsWith("forward " + source + ": " + seen + " packets captured on "
                + lab.captureInterface() + " in ").contains(seen + " published in " + summary.recordsPublished()
                + " records to tb.capture." + source);
        assertThat(status).contains("captured " + seen + " (", "published " + seen + " in ", "dropped pending-full 0");
        assertThat(scrape).contains("trafficbus_forward_packets_captured_total{source=\"" + source + "\"} " + seen + ".0",
                "trafficbus_forward_packets_published_total{source=\"" + source + "\"} " + seen + ".0",
                "trafficbus_forward_records_published_total{source=\"" + source + "\"} " + summary.recordsPublished() + ".0",
                "trafficbus_forward_packets_dropped_total{reason=\"pending-full\",source=\"" + source + "\"} 0.0",
                "trafficbus_forward_pcap_received_total{source=\"" + source + "\"}",
                "trafficbus_forward_pending_bytes{source=\"" + source + "\"}",
                "trafficbus_forward_publish_latency_seconds_count{source=\"" + source + "\"}");

        List<ConsumerRecord<byte[], byte[]>> records = readAll(cluster.bootstrapServers(), "tb.capture." + source);
        List<TopicPackets.Packet> packets = TopicPackets.of(records);
        assertThat(packets).hasSize((int) seen);
        assertThat(records).hasSize((int) summary.recordsPublished());
        // A connection's packets that arrive within the 5 ms window share records.
        assertThat(records.size()).isLessThan(packets.size());
        assertConsecutiveSequences(packets, seen);

        // Replay: each connection's client bytes, rebuilt from the records alone, sent to the server again.
        Map<FlowKey, byte[]> streams = clientStreams(packets);
        assertThat(streams).hasSize(20);
        for (byte[] stream : streams.values()) {
            String responses = exchange(lab.serverAddress(), stream);
            assertThat(count(responses, "HTTP/1.1 200 OK")).isEqualTo(10);
        }
        assertThat(requestedPaths(lab.clientAddress(), "/b/")).containsExactlyInAnyOrderElementsOf(paths);
        assertThat(requestedPaths(lab.hostAddress(), "/b/")).containsExactlyInAnyOrderElementsOf(paths);
    }

    @Test
    void theRingGrowsWithTrafficAndShrinksWhenQuietLosingAndDoublingNoPacket() throws Exception {
        String source = "live-ring";
        String filter = CaptureFilter.build(PORTS, false, cluster.bootstrapServers(), null);
        Path dump = temp.resolve("ring.pcap");
        LiveCaptureRequest request = LiveCaptureRequest.of(lab.captureInterface(), PORTS, source,
                kafka(cluster.bootstrapServers())).withMetricsPort(0);
        // The forwarder's rule with a quiet time short enough for a test: grown by each burst, shrunk after it.
        RingSizing sizing = new RingSizing(request.bufferBytes(), RingSizing.BUSY_PACKETS, Duration.ofSeconds(1),
                System.nanoTime());
        LiveSummary summary;
        List<String> paths = new ArrayList<>();
        List<String> rings = new ArrayList<>();
        String scrape;
        Process tcpdump = startTcpdump(dump, filter);
        try (LiveCapture capture = LiveCapture.open(request, sizing)) {
            RunningCapture running = RunningCapture.start(capture);
            rings.add(ringOf(capture.statusLine()) + " after 0 resizes");
            for (String burst : List.of("r1", "r2")) {
                paths.addAll(lab.burst(burst, 20, 10));
                Thread.sleep(3000); // the last FIN/ACKs, then a quiet second and the shrink
                rings.add(ringOf(capture.statusLine()) + " after " + resizes(capture, source) + " resizes");
            }
            scrape = httpGet("http://127.0.0.1:" + capture.metricsPort() + "/metrics");
            summary = running.stop();
        } finally {
            stopTcpdump(tcpdump);
        }
        long seen = countPackets(dump);

        // Each burst grew the ring and the quiet after it shrank it back.
        assertThat(rings).containsExactly("2.0 MB after 0 resizes", "2.0 MB after 2 resizes", "2.0 MB after 4 resizes");
        assertThat(scrape).contains("trafficbus_forward_capture_ring_bytes{source=\"" + source + "\"} " + (2 << 20) + ".0");
        assertThat(paths).hasSize(400);
        assertThat(summary.captured()).as("packets captured, tcpdump saw " + seen).isEqualTo(seen);
        assertThat(summary.published()).isEqualTo(seen);
        assertThat(summary.kernelReceived()).isEqualTo(seen);
        assertThat(summary.kernelDropped()).isZero();
        assertThat(summary.dropped()).isZero();
        assertThat(summary.accounted()).isTrue();
        List<TopicPackets.Packet> packets = TopicPackets.of(readAll(cluster.bootstrapServers(), "tb.capture." + source));
        assertThat(packets).hasSize((int) seen);
        assertConsecutiveSequences(packets, seen);
        // Each IP packet is unique (its IP id counts up); a packet given by both rings would be there twice.
        assertThat(packets.stream().map(p -> new String(p.ip(), StandardCharsets.ISO_8859_1)).distinct().count())
                .as("no packet published twice").isEqualTo(seen);
        Map<FlowKey, byte[]> streams = clientStreams(packets);
        assertThat(streams).hasSize(40);
    }

    private static long resizes(LiveCapture capture, String source) throws IOException {
        String scrape = httpGet("http://127.0.0.1:" + capture.metricsPort() + "/metrics");
        Matcher m = Pattern.compile("trafficbus_forward_capture_ring_resizes_total\\{source=\"" + source
                + "\"} ([0-9]+)\\.0").matcher(scrape);
        assertThat(m.find()).as(scrape).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String ringOf(String statusLine) {
        Matcher m = Pattern.compile("capture ring ([0-9.]+ [KMG]?B)").matcher(statusLine);
        assertThat(m.find()).as(statusLine).isTrue();
        return m.group(1);
    }

    @Test
    void credentialsAreMaskedBeforePublishingAndMetricsCountThemPerRule() throws Exception {
        String source = "live-secrets";
        LiveCaptureRequest request = LiveCaptureRequest.of(lab.captureInterface(), PORTS, source,
                kafka(cluster.bootstrapServers())).withMetricsPort(0);
        String scrape;
        LiveSummary summary;
        try (LiveCapture capture = LiveCapture.open(request)) {
            RunningCapture running = RunningCapture.start(capture);
            Process curl = lab.curl(List.of("/secret/1", "/secret/2", "/secret/3"),
                    List.of("Authorization: Bearer liveBearerSecret", "Cookie: session=liveCookieSecret"));
            assertThat(curl.waitFor(60, TimeUnit.SECONDS) && curl.exitValue() == 0).as("curl ran").isTrue();
            Thread.sleep(1000); // the last FIN/ACKs
            scrape = httpGet("http://127.0.0.1:" + capture.metricsPort() + "/metrics");
            summary = running.stop();
        }
        List<ConsumerRecord<byte[], byte[]>> records = readAll(cluster.bootstrapServers(), "tb.capture." + source);
        assertThat(records).isNotEmpty().allSatisfy(r -> assertThat(new String(r.value(), StandardCharsets.ISO_8859_1))
                .doesNotContain("liveBearerSecret").doesNotContain("liveCookieSecret"));
        String requests = records.stream().map(r -> new String(r.value(), StandardCharsets.ISO_8859_1))
                .reduce("", String::concat);
        assertThat(requests).contains("Authorization: " + "*".repeat("Bearer liveBearerSecret".length()) + "\r\n");
        assertThat(summary.summaryLine()).contains("; redacted: header:Authorization 3, header:Cookie 3");
        assertThat(scrape).contains(
                "trafficbus_forward_fields_redacted_total{rule=\"header:Authorization\",source=\"" + source + "\"} 3.0",
                "trafficbus_forward_fields_redacted_total{rule=\"header:Cookie\",source=\"" + source + "\"} 3.0",
                "trafficbus_forward_fields_redacted_total{rule=\"header:Proxy-Authorization\",source=\"" + source + "\"} 0.0",
                "trafficbus_forward_redaction_unchecked_total{source=\"" + source + "\"} 0.0");
    }

    @Test
    void aBrokerOutageLosesNothingUnderMaxPendingAndATinyBoundCountsExactlyWhatItDrops() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("broker"));
        try (ChildBroker broker = ChildBroker.start(dir)) {
            Properties kafka = kafka(broker.bootstrapServers());
            LiveCaptureRequest roomy = LiveCaptureRequest.of(lab.captureInterface(), PORTS, "outage-roomy", kafka)
                    .withMaxPending(64L << 20);
            LiveCaptureRequest tiny = LiveCaptureRequest.of(lab.captureInterface(), PORTS, "outage-tiny", kafka)
                    .withMaxPending(64L << 10);
            LiveSummary roomySummary;
            LiveSummary tinySummary;
            long tinyBase;
            try (LiveCapture a = LiveCapture.open(roomy); LiveCapture b = LiveCapture.open(tiny)) {
                RunningCapture ra = RunningCapture.start(a);
                RunningCapture rb = RunningCapture.start(b);
                lab.burst("before", 5, 20);
                broker.stopProcess();
                long down = System.nanoTime();
                long publishedAtStop = a.summary(0).published();
                // While the broker is down: about 1,000 packets, some 170 KB of records: over 64 KB, far under 64 MB.
                lab.burst("during", 20, 20);
                long elapsed = System.nanoTime() - down;
                Thread.sleep(Math.max(0, TimeUnit.SECONDS.toMillis(10) - TimeUnit.NANOSECONDS.toMillis(elapsed)));
                assertThat(a.summary(0).published()).as("nothing is published while the broker is down")
                        .isEqualTo(publishedAtStop);
                assertThat(a.pendingBytes()).isGreaterThan(64L << 10);
                assertThat(b.pendingBytes()).isLessThanOrEqualTo(64L << 10);
                broker.startProcess();
                lab.burst("after", 5, 20);
                Thread.sleep(1000);
                // Publishing resumes by itself: everything pending reaches the broker.
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (a.pendingBytes() > 0 || b.pendingBytes() > 0) {
                    assertThat(System.nanoTime()).as("pending records published within 60 s of the restart")
                            .isLessThan(deadline);
                    Thread.sleep(100);
                }
                tinyBase = b.firstSequence();
                roomySummary = ra.stop();
                tinySummary = rb.stop();
            }
            long roomyPackets = TopicPackets.of(readAll(broker.bootstrapServers(), "tb.capture.outage-roomy")).size();
            List<TopicPackets.Packet> tinyPackets = TopicPackets.of(readAll(broker.bootstrapServers(),
                    "tb.capture.outage-tiny"));

            assertThat(roomySummary.captured()).isGreaterThan(1000);
            assertThat(roomySummary.dropped()).isZero();
            assertThat(roomySummary.publishErrors()).isZero();
            assertThat(roomySummary.published()).isEqualTo(roomySummary.captured()).isEqualTo(roomyPackets);

            assertThat(tinySummary.captured()).isEqualTo(roomySummary.captured());
            long pendingFull = tinySummary.droppedByReason().get(LiveSummary.PENDING_FULL);
            assertThat(pendingFull).isGreaterThan(0);
            assertThat(tinySummary.publishErrors()).isZero();
            assertThat(tinySummary.published()).isEqualTo(tinyPackets.size());
            assertThat(tinyPackets.size() + pendingFull).isEqualTo(tinySummary.captured());
            // The drops are the gaps in the sequence numbers, so a consumer can see them too.
            List<Long> sequences = tinyPackets.stream().map(TopicPackets.Packet::sequence).toList();
            long end = tinyBase + tinySummary.captured();
            assertThat(sequences).doesNotHaveDuplicates().allMatch(s -> s >= tinyBase && s < end);
            assertThat(end - tinyBase - sequences.size()).isEqualTo(pendingFull);
        }
    }

    @Test
    void sigtermMidBurstPublishesOrCountsEveryCapturedPacket() throws Exception {
        int metricsPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = temp.resolve("forward.out");
        Path err = temp.resolve("forward.err");
        Process forward = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                ForwardMain.class.getName(), "--interface", lab.captureInterface(), "--port", "" + NetnsLab.HTTP_PORT,
                "--source", "sigterm", "--bootstrap-servers", cluster.bootstrapServers(), "--status-interval", "1s",
                "--metrics-port", "" + metricsPort)
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        List<Process> clients = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Files.readString(err).contains("capturing on " + lab.captureInterface())) {
                assertThat(forward.isAlive()).as("forward runs: " + Files.readString(err)).isTrue();
                assertThat(System.nanoTime()).as("forward starts capturing within 60 s").isLessThan(deadline);
                Thread.sleep(100);
            }
            for (int c = 0; c < 8; c++) {
                List<String> paths = new ArrayList<>();
                for (int r = 0; r < 2000; r++) {
                    paths.add("/sig/" + c + "/" + r);
                }
                clients.add(lab.curl(paths));
            }
            // Mid-burst: the forwarder has captured some thousands of packets and the clients still send.
            while (capturedSoFar(metricsPort) < 2000) {
                assertThat(System.nanoTime()).as("traffic is captured").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(clients).anyMatch(Process::isAlive);
            forward.destroy(); // SIGTERM
            assertThat(forward.waitFor(40, TimeUnit.SECONDS)).as("forward ends after SIGTERM").isTrue();
        } finally {
            clients.forEach(Process::destroyForcibly);
            forward.destroyForcibly();
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        assertThat(stderr).doesNotContain("Exception", "\tat ");
        assertThat(stderr).contains("forward sigterm on " + lab.captureInterface() + ": captured ");
        Matcher m = Pattern.compile("forward sigterm: (\\d+) packets captured on \\S+ in [0-9.]+ s, (\\d+) published in"
                + " \\d+ records to"
                + " tb.capture.sigterm \\([^)]*\\)(?:; dropped: ([^;]*))?(?:; skipped: ([^;]*))?(?:; (\\d+) publish errors)?;"
                + " kernel: \\d+ received, \\d+ dropped, \\d+ dropped by the interface").matcher(stdout);
        assertThat(m.find()).as("summary line in: " + stdout).isTrue();
        long captured = Long.parseLong(m.group(1));
        long published = Long.parseLong(m.group(2));
        long dropped = sumCounts(m.group(3));
        long skipped = sumCounts(m.group(4));
        long errors = m.group(5) == null ? 0 : Long.parseLong(m.group(5));
        assertThat(captured).isGreaterThanOrEqualTo(2000);
        assertThat(published + dropped + skipped + errors).isEqualTo(captured);
        assertThat(TopicPackets.of(readAll(cluster.bootstrapServers(), "tb.capture.sigterm"))).hasSize((int) published);
    }

    @Test
    void unknownInterfaceIsOneLineAndExitCode2() {
        CommandOutput run = CommandOutput.run(new ForwardCommand(), "--interface", "tbnosuch0", "--port", "80",
                "--bootstrap-servers", "127.0.0.1:1");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).startsWith("trafficbus forward: interface tbnosuch0 does not exist; capture on one of: ")
                .contains(lab.captureInterface(), "any").doesNotContain("\n");
        assertThat(run.hasStackTrace()).isFalse();
    }

    @Test
    void noPermissionToCaptureNamesTheFix() throws Exception {
        // Root without CAP_NET_RAW and CAP_NET_ADMIN is refused a packet socket like any other user.
        NetnsLab.Result r = NetnsLab.exec(forwardCommand(List.of("setpriv", "--bounding-set", "-net_raw,-net_admin",
                "--inh-caps", "-net_raw,-net_admin"), "--interface", lab.captureInterface(), "--port", "80",
                "--bootstrap-servers", "127.0.0.1:1"), Duration.ofSeconds(60));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.output().strip()).startsWith("trafficbus forward: no permission to capture on " + lab.captureInterface())
                .endsWith("run as root or give java the capabilities: setcap cap_net_raw,cap_net_admin=eip"
                        + " $(readlink -f $(command -v java))")
                .doesNotContain("\n", "Exception");
    }

    /** A child JVM running ForwardMain with this test's classpath, after {@code prefix} (e.g. setpriv ...). */
    static List<String> forwardCommand(List<String> prefix, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), ForwardMain.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static long capturedSoFar(int metricsPort) {
        try {
            Matcher m = Pattern.compile("trafficbus_forward_packets_captured_total\\{source=\"sigterm\"} ([0-9.E]+)")
                    .matcher(httpGet("http://127.0.0.1:" + metricsPort + "/metrics"));
            return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
        } catch (IOException e) {
            return 0; // not serving yet
        }
    }

    private static long sumCounts(String list) {
        if (list == null) {
            return 0;
        }
        long sum = 0;
        for (String item : list.split(", ")) {
            sum += Long.parseLong(item.substring(item.lastIndexOf(' ') + 1));
        }
        return sum;
    }

    /** Runs a capture on its own thread, as the command runs it on main; stop() is what the signal hook does. */
    private static final class RunningCapture {
        private final LiveCapture capture;
        private final Thread thread;
        private final AtomicReference<Object> result = new AtomicReference<>();

        private RunningCapture(LiveCapture capture) {
            this.capture = capture;
            this.thread = new Thread(() -> {
                try {
                    result.set(capture.run());
                } catch (RuntimeException | Error e) {
                    result.set(e);
                }
            }, "live-capture-test");
        }

        static RunningCapture start(LiveCapture capture) {
            RunningCapture r = new RunningCapture(capture);
            r.thread.start();
            return r;
        }

        LiveSummary stop() throws InterruptedException {
            capture.stop();
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(thread.isAlive()).as("capture ends within 30 s of stop").isFalse();
            Object r = result.get();
            if (r instanceof Throwable t) {
                throw new AssertionError("capture failed", t);
            }
            return (LiveSummary) r;
        }
    }

    private Process startTcpdump(Path file, String filter) throws Exception {
        Path log = temp.resolve("tcpdump.log");
        Process p = new ProcessBuilder("tcpdump", "-i", lab.captureInterface(), "-n", "-s", "0", "-U", "--immediate-mode",
                "-Z", "root", "-w", file.toString(), filter)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.readString(log).contains("listening on")) {
            assertThat(p.isAlive()).as("tcpdump runs: " + Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as("tcpdump starts").isLessThan(deadline);
            Thread.sleep(50);
        }
        return p;
    }

    private static void stopTcpdump(Process p) throws InterruptedException {
        p.destroy(); // SIGTERM: tcpdump flushes and closes the file
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    private static long countPackets(Path pcap) throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (PcapHandle h = Pcaps.openOffline(pcap.toString())) {
            h.loop(-1, (org.pcap4j.core.RawPacketListener) frame -> n.incrementAndGet());
        }
        return n.get();
    }

    private static void assertConsecutiveSequences(List<TopicPackets.Packet> packets, long n) {
        List<Long> sequences = packets.stream().map(TopicPackets.Packet::sequence).sorted().toList();
        long first = sequences.get(0);
        assertThat(SequenceNumbers.runStartMillis(first)).isBetween(System.currentTimeMillis() - 600_000,
                System.currentTimeMillis());
        assertThat(sequences).isEqualTo(java.util.stream.LongStream.range(first, first + n).boxed().toList());
    }

    /** Per connection, the client's payload bytes in TCP sequence order (a retransmission counted once). */
    private static Map<FlowKey, byte[]> clientStreams(List<TopicPackets.Packet> packets) {
        PacketView view = new PacketView();
        Map<FlowKey, TreeMap<Long, byte[]>> segments = new LinkedHashMap<>();
        for (TopicPackets.Packet p : packets) {
            if (p.direction() != Direction.CLIENT_TO_SERVER) {
                continue;
            }
            assertThat(view.wrap(p.ip(), 0, p.ip().length)).isEqualTo(PacketStatus.TCP);
            if (view.payloadLength() == 0) {
                continue;
            }
            byte[] payload = new byte[view.payloadLength()];
            System.arraycopy(p.ip(), view.payloadOffset(), payload, 0, payload.length);
            segments.computeIfAbsent(FlowKey.parse(p.record().key()), k -> new TreeMap<>()).put(view.seq(), payload);
        }
        Map<FlowKey, byte[]> streams = new LinkedHashMap<>();
        segments.forEach((flow, bySeq) -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            bySeq.values().forEach(out::writeBytes);
            streams.put(flow, out.toByteArray());
        });
        return streams;
    }

    /** Sends {@code request} on a new connection, half-closes, returns all the server answered. */
    private static String exchange(String host, byte[] request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, NetnsLab.HTTP_PORT), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** Paths under {@code prefix} nginx logged for requests from {@code client}. */
    private static List<String> requestedPaths(String client, String prefix) throws IOException {
        Pattern line = Pattern.compile("^(\\S+) .*\"GET (\\S+) HTTP/1\\.1\" 200 ");
        List<String> paths = new ArrayList<>();
        for (String l : lab.accessLog()) {
            Matcher m = line.matcher(l);
            if (m.find() && m.group(1).equals(client) && m.group(2).startsWith(prefix)) {
                paths.add(m.group(2));
            }
        }
        return paths;
    }

    private static String httpGet(String url) throws IOException {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(5000);
        try (InputStream in = c.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }

    /** Every record of the topic, read up to the end offsets taken now. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic) {
        Properties p = kafka(servers);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("read " + topic + " to its end within 30 s").isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
