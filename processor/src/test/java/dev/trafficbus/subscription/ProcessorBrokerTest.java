package dev.trafficbus.subscription;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.socket.SocketReplay;
import com.sun.net.httpserver.HttpServer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The processor on a real broker, fed by the forwarder with a real tcpdump capture
 * ({@code testdata/http-sessions.pcap}: 16 HTTP sessions, 6 of them keep-alive sessions /s11../s16), in records
 * of several packets of a flow (and of one packet for the replay, see there). Redaction is checked end to end: the socket replay engine sends the
 * redacted sessions to a real HTTP server, which must see every request whole with the secrets masked.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ProcessorBrokerTest {
    static final Path PCAP = Path.of("../testdata/http-sessions.pcap");
    static final Path EXPECTED = Path.of("../testdata/http-sessions.expected");
    private static TestKafkaCluster kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = TestKafkaCluster.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    static Properties clientProps() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", kafka.bootstrapServers());
        return p;
    }

    /** The capture in records of up to four packets of a flow (5 ms batch window); some hold several. */
    static ForwardSummary publishBatched(String source) {
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(PCAP, Set.of(8080), source, clientProps(),
                false, Duration.ofMillis(5), 4));
        assertThat(s.publishErrors()).isZero();
        assertThat(s.recordsPublished()).as("records of several packets").isLessThan(s.packetsPublished());
        return s;
    }

    /** The capture as the forwarder publishes it by default. */
    static ForwardSummary forward(String source) {
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(PCAP, Set.of(8080), source, clientProps(), false));
        assertThat(s.publishErrors()).isZero();
        return s;
    }

    /** The expected file: client port -> request lines (method path) in order. */
    static Map<Integer, List<String>> expectedRequests() throws IOException {
        Map<Integer, List<String>> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(EXPECTED)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split(" ");
            out.computeIfAbsent(Integer.parseInt(f[0]), k -> new ArrayList<>()).add(f[1] + " " + f[2]);
        }
        return out;
    }

    static ProcessorApp startApp(String appId, Path stateDir, List<Subscription> initial) throws InterruptedException {
        return startAppOn(kafka, appId, stateDir, initial, null, false);
    }

    /** A processor on {@code cluster} that finds new capture topics within about a second. */
    static ProcessorApp startAppOn(TestKafkaCluster cluster, String appId, Path stateDir, List<Subscription> initial,
                                   MetricsEndpoint metrics, boolean exactlyOnce) throws InterruptedException {
        Properties props = new Properties();
        props.setProperty("bootstrap.servers", cluster.bootstrapServers());
        props.setProperty("metadata.max.age.ms", "1000");
        ProcessorApp.Config config = new ProcessorApp.Config(props, appId, initial, TopicSpec.of(null, 2), exactlyOnce, 1, stateDir,
                ProcessorSettings.defaults(), Duration.ofSeconds(1), Duration.ofSeconds(30));
        return new ProcessorApp(config, metrics).start();
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(250);
        }
    }

    /** Client ports of the sessions in a subscription topic, per copy. */
    static Map<String, Integer> sessionsOf(String topic) {
        return BusRecords.sessions(BusRecords.readAll(kafka.bootstrapServers(), topic));
    }

    @Test
    void subscriptionsFollowTheirRulesAndChangeWhileRunning(@TempDir Path dir) throws Exception {
        Map<Integer, List<String>> expected = expectedRequests();
        assertThat(expected).hasSize(16);
        Set<Integer> keepAlive = expected.entrySet().stream().filter(e -> e.getKey() >= 0
                && e.getValue().get(0).matches("GET /s1[1-6]/.*")).map(Map.Entry::getKey).collect(Collectors.toSet());
        Set<Integer> firstThree = expected.entrySet().stream().filter(e -> e.getValue().get(0)
                .matches("GET /s0[1-3]/.*")).map(Map.Entry::getKey).collect(Collectors.toSet());
        assertThat(keepAlive).hasSize(6);
        assertThat(firstThree).hasSize(3);

        ForwardSummary web1 = publishBatched("web1");
        Map<String, Integer> captured = sessionsOf("tb.capture.web1");
        assertThat(captured).hasSize(16);
        assertThat(captured.values().stream().mapToLong(Integer::longValue).sum()).isEqualTo(web1.packetsPublished());

        List<Subscription> initial = SubscriptionParser.parseAll("""
                - name: all2
                  sources: [web1, web3]
                  amplify: 2
                - name: keepalive
                  sources: [web1, web3]
                  filter:
                    server-ports: [8080]
                    http: {allow-url: ['^/s1[1-6]/']}
                - name: plain
                  sources: [web1]
                """);
        try (MetricsEndpoint metrics = new MetricsEndpoint("process");
             ProcessorApp app = startAppOn(kafka, "it-rules", dir.resolve("state"), initial, metrics, false)) {
            await("32 session copies in tb.sub.all2 and 6 sessions in tb.sub.keepalive", Duration.ofSeconds(90),
                    () -> sessionsOf("tb.sub.all2").size() == 32 && sessionsOf("tb.sub.keepalive").size() == 6
                            && BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.plain").size() == web1.recordsPublished());
            // Pass-through: the capture records themselves, value bytes and headers unchanged, in order per flow.
            assertThat(BusRecords.valuesByFlow(BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.plain")))
                    .isEqualTo(BusRecords.valuesByFlow(BusRecords.readAll(kafka.bootstrapServers(), "tb.capture.web1")));
            Map<String, Integer> all2 = sessionsOf("tb.sub.all2");
            // Whole sessions: each copy holds every packet the capture topic holds for that flow.
            for (Map.Entry<String, Integer> e : captured.entrySet()) {
                String flow = e.getKey().substring(0, e.getKey().length() - 2);
                assertThat(all2).containsEntry(flow + "/0", e.getValue()).containsEntry(flow + "/1", e.getValue());
            }
            List<ConsumerRecord<byte[], byte[]>> ka = BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.keepalive");
            assertThat(ka.stream().map(r -> BusRecords.clientPort(r.key())).collect(Collectors.toSet()))
                    .isEqualTo(keepAlive);
            for (Map.Entry<String, Integer> e : BusRecords.sessions(ka).entrySet()) {
                assertThat(captured).containsEntry(e.getKey(), e.getValue());
            }
            SubscriptionCounters kc = app.counters().of("keepalive");
            assertThat(kc.sessionsIn()).isEqualTo(16);
            assertThat(kc.sessionsKept()).isEqualTo(6);
            assertThat(kc.sessionsDropped("http-allow-url")).isEqualTo(10);
            assertThat(metrics.scrape())
                    .contains("trafficbus_process_sessions_dropped_total{reason=\"http-allow-url\",subscription=\"keepalive\"} 10.0")
                    .contains("trafficbus_process_sessions_kept_total{subscription=\"all2\"} 16.0")
                    .contains("trafficbus_process_records_in_total{source=\"web1\"} " + web1.recordsPublished() + ".0")
                    .contains("trafficbus_process_packets_in_total{subscription=\"keepalive\"} "
                            + web1.packetsPublished() + ".0");

            // A third subscription, added with the command while the processor runs, on a source that appears later.
            Path early = dir.resolve("early.yaml");
            Files.writeString(early, "name: early\nsources: [web2]\nfilter: {http: {allow-url: ['^/s0[1-3]/']}}\n"
                    + "amplify: 3\n");
            CommandOutput sub = CommandOutput.run(new SubscribeMain(), "--bootstrap-servers", kafka.bootstrapServers(),
                    "--file", early.toString());
            assertThat(sub.exitCode()).isZero();
            assertThat(sub.out()).contains("subscribed early -> tb.sub.early");
            await("early in force", Duration.ofSeconds(30),
                    () -> app.registry().all().stream().anyMatch(s -> s.name().equals("early")));
            forward("web2");
            await("3 sessions x 3 copies in tb.sub.early", Duration.ofSeconds(90),
                    () -> sessionsOf("tb.sub.early").size() == 9);
            assertThat(BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.early").stream()
                    .map(r -> BusRecords.clientPort(r.key())).collect(Collectors.toSet())).isEqualTo(firstThree);

            // Removing one: it stops while the others go on.
            CommandOutput unsub = CommandOutput.run(new UnsubscribeMain(), "--bootstrap-servers",
                    kafka.bootstrapServers(), "--name", "keepalive");
            assertThat(unsub.exitCode()).isZero();
            await("keepalive removed", Duration.ofSeconds(30),
                    () -> app.registry().all().stream().noneMatch(s -> s.name().equals("keepalive")));
            int keepAliveRecords = BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.keepalive").size();
            publishBatched("web3");
            await("web3's 32 session copies in tb.sub.all2", Duration.ofSeconds(90),
                    () -> sessionsOf("tb.sub.all2").size() == 64);
            assertThat(BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.keepalive")).hasSize(keepAliveRecords);
            assertThat(app.counters().of("keepalive").sessionsIn()).isEqualTo(16);

            app.publishStats();
            CommandOutput list = CommandOutput.run(new SubscriptionsMain(), "--bootstrap-servers", kafka.bootstrapServers());
            assertThat(list.exitCode()).isZero();
            assertThat(list.out()).contains("all2").contains("early").doesNotContain("keepalive");
            String all2Line = list.out().lines().filter(l -> l.startsWith("all2 ")).findFirst().orElseThrow();
            assertThat(all2Line.trim().split("\\s+")).containsSubsequence("32", "32");

            CommandOutput missing = CommandOutput.run(new UnsubscribeMain(), "--bootstrap-servers",
                    kafka.bootstrapServers(), "--name", "nope");
            assertThat(missing.exitCode()).isEqualTo(2);
            assertThat(missing.err()).startsWith("trafficbus unsubscribe: no subscription named 'nope'");
            assertThat(missing.hasStackTrace()).isFalse();
        }
    }

    @Test
    void invalidSubscriptionFileIsOneLineNamingTheField(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "name: team-a\nsources: [web1]\nsample: 150%\n");
        CommandOutput out = CommandOutput.run(new SubscribeMain(), "--bootstrap-servers", kafka.bootstrapServers(),
                "--file", bad.toString());
        assertThat(out.exitCode()).isEqualTo(2);
        assertThat(out.err().trim()).isEqualTo("trafficbus subscribe: --file " + bad + ": subscription team-a: sample: 150% is above 100%");
        CommandOutput process = CommandOutput.run(new ProcessMain(), "--bootstrap-servers", kafka.bootstrapServers(),
                "--subscriptions", bad.toString(), "--metrics-port", "-1");
        assertThat(process.exitCode()).isEqualTo(2);
        assertThat(process.err().trim()).isEqualTo("trafficbus process: --subscriptions " + bad
                + ": subscription team-a: sample: 150% is above 100%");
        CommandOutput missing = CommandOutput.run(new ProcessMain(), "--bootstrap-servers", kafka.bootstrapServers(),
                "--subscriptions", dir.resolve("none.yaml").toString(), "--metrics-port", "-1");
        assertThat(missing.err().trim()).isEqualTo("trafficbus process: --subscriptions " + dir.resolve("none.yaml")
                + ": no such file");
        assertThat(new TreeSet<>(new SubscriptionStore(clientProps(), Duration.ofSeconds(10)).definitions().keySet()))
                .doesNotContain("team-a");
    }

    /** One request as the server saw it: method, path, User-Agent, body length and SHA-256. */
    record Seen(String method, String path, String userAgent, int bodyBytes, String bodySha) {
    }

    /**
     * Runs the processor with exactly-once processing, so that path meets a real broker too. The capture goes in
     * records of up to 4 packets, so redaction rebuilds multi-packet values that the replayer then walks.
     */
    @Test
    void replayedSessionsReachTheServerMaskedAndWhole(@TempDir Path dir) throws Exception {
        Properties props = new Properties();
        props.setProperty("bootstrap.servers", kafka.bootstrapServers());
        ForwardSummary web4 = PcapForwarder.forward(new PcapForwardRequest(PCAP, Set.of(8080), "web4", props,
                false, Duration.ofMillis(5), 4));
        assertThat(web4.publishErrors()).isZero();
        assertThat(web4.recordsPublished()).isLessThan(web4.packetsPublished());

        List<Seen> seen = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            String sha;
            try {
                sha = body.length == 0 ? "-" : HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                    ex.getRequestHeaders().getFirst("User-Agent"), body.length, sha));
            byte[] ok = "ok\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, ok.length);
            ex.getResponseBody().write(ok);
            ex.close();
        });
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        try {
            List<Subscription> subs = SubscriptionParser.parseAll(
                    "{name: masked, sources: [web4], redact: {headers: [User-Agent], patterns: ['/r0(\\d)']}}");
            ReplaySummary summary;
            try (ProcessorApp app = startAppOn(kafka, "it-redact", dir.resolve("state"), subs, null, true)) {
                await("16 sessions in tb.sub.masked", Duration.ofSeconds(90), () -> BusRecords.sessions(
                        BusRecords.readAll(kafka.bootstrapServers(), "tb.sub.masked")).size() == 16);
                assertThat(app.counters().of("masked").fieldsRedacted()).as("a User-Agent and a path per request")
                        .isEqualTo(64);
                ReplayRequest request = new ReplayRequest("tb.sub.masked", props,
                        new InetSocketAddress("127.0.0.1", server.getAddress().getPort()), ReplaySpeed.MAX,
                        "it-redact-replay", true, false);
                summary = new SocketReplay(request).run();
            } finally {
                new SubscriptionStore(props, Duration.ofSeconds(10)).remove("masked");
            }
            assertThat(summary.sessionsReplayed()).isEqualTo(16);
            List<Seen> expected = new ArrayList<>();
            for (String line : Files.readAllLines(EXPECTED)) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] f = line.split(" ");
                String path = f[2].substring(0, f[2].length() - 1) + "*";
                expected.add(new Seen(f[1], path, "*".repeat("curl/7.88.1".length()), Integer.parseInt(f[3]), f[4]));
            }
            assertThat(seen).containsExactlyInAnyOrderElementsOf(expected);
        } finally {
            server.stop(0);
        }
    }

    private static ForwardSummary forwardInto(String source, int partitions) {
        ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(PCAP, Set.of(8080), source,
                clientProps(), false).withTopicSettings(TopicSpec.of(null, partitions)));
        assertThat(s.publishErrors()).isZero();
        return s;
    }

    private static int partitionsOf(String topic) {
        try (KafkaAdmin admin = KafkaAdmin.connect(clientProps(), Duration.ofSeconds(10))) {
            return admin.describe(topic).partitions();
        }
    }

    /**
     * Capture topics of different partition counts read by one processor, the wider one appearing while it runs:
     * Kafka Streams sizes the changelog topics by the widest capture topic, and refused to go on ("internal topic
     * ... has invalid partitions") when a wider one came.
     */
    @Test
    void aWiderCaptureTopicAppearingWhileRunningIsReadToo(@TempDir Path dir) throws Exception {
        forwardInto("three", 3);
        assertThat(partitionsOf("tb.capture.three")).isEqualTo(3);
        List<Subscription> initial = SubscriptionParser.parseAll("""
                - name: mixed
                  sources: [three, six]
                - name: mixed-http
                  sources: [three, six]
                  filter:
                    http: {allow-url: ['^/s1[1-6]/']}
                """);
        try (ProcessorApp app = startAppOn(kafka, "it-widths", dir.resolve("state"), initial,
                null, false)) {
            await("16 sessions of the 3-partition topic", Duration.ofSeconds(90),
                    () -> sessionsOf("tb.sub.mixed").size() == 16 && sessionsOf("tb.sub.mixed-http").size() == 6);

            forwardInto("six", 6);
            assertThat(partitionsOf("tb.capture.six")).isEqualTo(6);
            await("16 more sessions from the 6-partition topic", Duration.ofSeconds(120),
                    () -> sessionsOf("tb.sub.mixed").size() == 32 && sessionsOf("tb.sub.mixed-http").size() == 12);
            assertThat(app.state()).isEqualTo(KafkaStreams.State.RUNNING);
            assertThat(app.counters().of("mixed").sessionsIn()).isEqualTo(32);
            assertThat(partitionsOf("it-widths-" + SubscriptionProcessor.SESSION_STORE + "-changelog")).isEqualTo(6);
        }
    }
}
