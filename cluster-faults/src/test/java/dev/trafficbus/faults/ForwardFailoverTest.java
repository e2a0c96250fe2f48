package dev.trafficbus.faults;

import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.LiveCapture;
import dev.trafficbus.capture.LiveCaptureRequest;
import dev.trafficbus.capture.LiveSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.redact.RedactionRules;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The forwarder loses and repeats nothing when the leader of a partition it writes to dies mid-run: every packet of
 * the capture is in the topic exactly once (the idempotent producer's retries are deduplicated by the new leader), as
 * {@code trafficbus export} shows, for a pcap import and for a live capture.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
@ExtendWith(ThreeBrokers.Shared.class)
class ForwardFailoverTest {
    private static final int PCAP_PORT = 8080;
    private static ThreeBrokers cluster;

    @TempDir
    Path temp;

    @BeforeAll
    static void start() {
        cluster = ThreeBrokers.shared();
    }

    @Test
    void aPcapImportPublishesEveryPacketOnceWhenALeaderDiesMidFile() throws Exception {
        String topic = "tb.capture.cl-pcap";
        cluster.createTopics(6, topic);
        int victim = cluster.leaderOf(topic, 0);
        Set<Integer> victimPartitions = partitionsLedBy(topic, victim);
        Path pcap = CapturedPackets.testdata("http-sessions.pcap");
        Map<String, Integer> expected = CapturedPackets.tcp(pcap, Set.of(PCAP_PORT), true);
        assertThat(CapturedPackets.total(expected)).isEqualTo(210);

        // One packet per record: 210 records, a third of them read before the kill and the rest sent while the leader
        // goes down and until the controller has fenced it. The kill runs beside the import, which reads on.
        AtomicInteger read = new AtomicInteger();
        AtomicReference<CompletableFuture<Void>> kill = new AtomicReference<>();
        PcapForwardRequest request = new PcapForwardRequest(pcap, Set.of(PCAP_PORT), "cl-pcap", cluster.clientConfig(),
                false, Duration.ZERO, 1).withRedaction(RedactionRules.NONE);
        ForwardSummary s = PcapForwarder.forward(request, () -> {
            if (read.incrementAndGet() == 70) {
                kill.set(CompletableFuture.runAsync(() -> cluster.kill(victim)));
            }
            return false;
        });
        kill.get().get(60, TimeUnit.SECONDS);
        System.out.printf("pcap failover: broker %d killed at packet 70 of 210; %d published, %d errors in %.1f s%n",
                victim, s.packetsPublished(), s.publishErrors(), s.seconds());

        assertThat(s.publishErrors()).as("publish errors: " + s).isZero();
        assertThat(s.packetsPublished()).isEqualTo(210);
        assertThat(s.recordsPublished()).isEqualTo(210);
        assertThat(recordsIn(topic, victimPartitions)).as("records in the partitions the killed broker led")
                .isPositive();
        Path out = temp.resolve("pcap-export.pcap");
        assertThat(CapturedPackets.export(cluster, topic, out).out()).contains("210 packets written");
        assertThat(CapturedPackets.tcp(out, Set.of(PCAP_PORT), true)).isEqualTo(expected);
    }

    /**
     * Live capture on the loopback interface of a real HTTP exchange (one connection per request, 25 ms apart) while
     * the leader of partition 0 dies a quarter of the way in; tcpdump captures the same traffic beside it.
     */
    @Test
    void aLiveCapturePublishesEveryPacketOnceWhenALeaderDiesMidTraffic() throws Exception {
        assumeTrue(isRoot(), "live capture needs root (packet capture on lo)");
        assumeTrue(onPath("tcpdump"), "the reference capture needs tcpdump");
        String topic = "tb.capture.cl-live";
        cluster.createTopics(6, topic);
        int victim = cluster.leaderOf(topic, 0);
        Set<Integer> victimPartitions = partitionsLedBy(topic, victim);
        int requests = 240;
        try (HttpOnce server = new HttpOnce()) {
            Set<Integer> ports = Set.of(server.port());
            Path dump = temp.resolve("tcpdump.pcap");
            Process tcpdump = startTcpdump(dump, "tcp port " + server.port());
            LiveSummary summary;
            long killedAtRequest;
            try (LiveCapture capture = LiveCapture.open(LiveCaptureRequest.of("lo", ports, "cl-live",
                    cluster.clientConfig()).withRedaction(RedactionRules.NONE))) {
                AtomicReference<Object> result = new AtomicReference<>();
                Thread running = new Thread(() -> {
                    try {
                        result.set(capture.run());
                    } catch (RuntimeException | Error e) {
                        result.set(e);
                    }
                }, "cl-live-capture");
                running.start();
                Thread.sleep(500); // the capture handle is open before the first SYN
                CompletableFuture<Void> kill = null;
                for (int i = 0; i < requests; i++) {
                    if (i == requests / 4) {
                        kill = CompletableFuture.runAsync(() -> cluster.kill(victim));
                    }
                    server.get("/r" + i);
                    Thread.sleep(25);
                }
                killedAtRequest = requests / 4;
                kill.get(60, TimeUnit.SECONDS);
                ThreeBrokers.await("the capture's pending packets published", Duration.ofSeconds(60),
                        () -> capture.pendingBytes() == 0);
                Thread.sleep(1000); // the last ACKs, captured after the last answer was read
                capture.stop();
                running.join(TimeUnit.SECONDS.toMillis(30));
                assertThat(running.isAlive()).as("capture ends within 30 s of stop").isFalse();
                if (result.get() instanceof Throwable t) {
                    throw new AssertionError("capture failed", t);
                }
                summary = (LiveSummary) result.get();
            } finally {
                stopTcpdump(tcpdump, dump);
            }
            Map<String, Integer> seen = CapturedPackets.tcp(dump, ports, false);
            System.out.printf("live failover: broker %d killed at request %d of %d; %s; tcpdump %d packets%n",
                    victim, killedAtRequest, requests, summary.summaryLine(), CapturedPackets.total(seen));
            assertThat(server.answered()).isEqualTo(requests);
            assertThat(CapturedPackets.total(seen)).as("packets tcpdump saw").isGreaterThan(requests * 8L);
            assertThat(summary.kernelDropped()).as(summary.summaryLine()).isZero();
            assertThat(summary.dropped()).as(summary.summaryLine()).isZero();
            assertThat(summary.publishErrors()).as(summary.summaryLine()).isZero();
            assertThat(summary.published()).as(summary.summaryLine()).isEqualTo(summary.captured());
            assertThat(recordsIn(topic, victimPartitions)).as("records in the partitions the killed broker led")
                    .isPositive();
            Path out = temp.resolve("live-export.pcap");
            CapturedPackets.export(cluster, topic, out);
            Map<String, Integer> exported = CapturedPackets.tcp(out, ports, false);
            assertThat(CapturedPackets.duplicates(exported)).as("packets in the topic twice").isZero();
            assertThat(CapturedPackets.total(exported)).as("packets in the topic").isEqualTo(summary.captured());
            // tcpdump is the witness of what crossed lo; on a loaded machine it may miss a few packets itself when
            // stopped, never the other way round: every packet it saw is in the topic.
            assertThat(exported).containsAllEntriesOf(seen);
        }
    }

    private Process startTcpdump(Path file, String filter) throws Exception {
        Path log = temp.resolve("tcpdump.log");
        Process p = new ProcessBuilder("tcpdump", "-i", "lo", "-n", "-s", "0", "-U", "--immediate-mode",
                "-Z", "root", "-w", file.toString(), filter)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            ThreeBrokers.await("tcpdump listening", Duration.ofSeconds(20), () -> {
                assertThat(p.isAlive()).as("tcpdump runs: " + java.nio.file.Files.readString(log)).isTrue();
                return java.nio.file.Files.readString(log).contains("listening on");
            });
        } catch (Exception | AssertionError e) {
            p.destroyForcibly();
            throw e;
        }
        return p;
    }

    /** Stops tcpdump once its file has not grown for a second (it writes each packet as it reads it: -U). */
    private static void stopTcpdump(Process p, Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long size = -1;
        while (System.nanoTime() < deadline && java.nio.file.Files.size(file) != size) {
            size = java.nio.file.Files.size(file);
            Thread.sleep(1000);
        }
        stopTcpdump(p);
    }

    private static void stopTcpdump(Process p) throws InterruptedException {
        p.destroy(); // SIGTERM: tcpdump flushes and closes the file
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (java.nio.file.Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** A real HTTP/1.1 server on loopback answering each request on its own connection, and its client. */
    private static final class HttpOnce implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket();
        private final Thread acceptor;
        private final AtomicInteger answered = new AtomicInteger();

        HttpOnce() throws IOException {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            acceptor = new Thread(this::serve, "cl-http");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int answered() {
            return answered.get();
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket c = socket.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(),
                            StandardCharsets.ISO_8859_1));
                    String line = in.readLine();
                    while (line != null && !line.isEmpty()) {
                        line = in.readLine();
                    }
                    byte[] body = "ok, answered\n".repeat(40).getBytes(StandardCharsets.ISO_8859_1);
                    OutputStream out = c.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.write(body);
                    out.flush();
                    answered.incrementAndGet();
                } catch (IOException e) {
                    // closed: the test is over
                }
            }
        }

        /** GET {@code path} on a new connection, reading the answer to its end. */
        void get(String path) throws IOException {
            try (Socket s = new Socket("127.0.0.1", port())) {
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                InputStream in = s.getInputStream();
                in.readAllBytes();
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private Set<Integer> partitionsLedBy(String topic, int broker) throws Exception {
        Set<Integer> out = new java.util.TreeSet<>();
        for (int p = 0; p < 6; p++) {
            if (cluster.leaderOf(topic, p) == broker) {
                out.add(p);
            }
        }
        return out;
    }

    private long recordsIn(String topic, Set<Integer> partitions) throws Exception {
        try (Admin admin = cluster.admin()) {
            Map<TopicPartition, OffsetSpec> latest = partitions.stream().collect(Collectors.toMap(
                    p -> new TopicPartition(topic, p), p -> OffsetSpec.latest()));
            return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(o -> o.offset()).sum();
        }
    }
}
