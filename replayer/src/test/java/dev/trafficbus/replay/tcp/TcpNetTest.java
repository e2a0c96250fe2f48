package dev.trafficbus.replay.tcp;

import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the tcp engine's end-to-end tests share: a real broker, the {@link TcpTestNet} namespaces with the real
 * intercept, a fresh nginx for every test, and the engine options that reach them. Root only (skipped otherwise).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TcpNetTest {
    private final AtomicInteger topics = new AtomicInteger();
    TestKafkaCluster kafka;
    TcpTestNet net;

    @BeforeAll
    void setUp() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root: network namespaces, raw sockets");
        Assumptions.assumeTrue(TcpTestNet.interceptBuilt(),
                "the intercept module is not built (intercept/target/classes); build it first");
        kafka = TestKafkaCluster.start();
        net = new TcpTestNet();
        net.startIntercept();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (net != null) {
            net.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @BeforeEach
    void freshServers() throws Exception {
        net.stopServers();
        net.startNginx();
    }

    /** The tcp engine's options for the test net's intercept, as replayer {@code instance}. */
    TcpEngineOptions options(int instance) {
        return options(instance, TcpTestNet.INTERCEPT_PORT);
    }

    /** The tcp engine's options for the test net's intercept listening on {@code interceptPort}. */
    TcpEngineOptions options(int instance, int interceptPort) {
        TcpEngineOptions o = TcpEngineOptions.of(TcpTestNet.CLIENT_RANGE,
                List.of(TcpTestNet.INTERCEPT_IP + ":" + interceptPort), net.token.toFile(), instance);
        o.handshakeTimeout = Duration.ofSeconds(15);
        return o;
    }

    /** A replay of {@code topic} to the test server's {@code port} at {@code speed}, to its end, in a group of its own. */
    ReplayRequest request(String topic, int port, ReplaySpeed speed) {
        Properties c = new Properties();
        c.put("bootstrap.servers", kafka.bootstrapServers());
        return new ReplayRequest(topic, c, new InetSocketAddress(TcpTestNet.TEST_IP, port), speed, "g-" + topic, true,
                false);
    }

    /** Runs a tcp-engine replay and prints its summary line, so that the test's output shows every run. */
    static ReplaySummary run(ReplayRequest r, ReplayTuning tuning, ReplayOptions options, TcpEngineOptions tcp) {
        ReplaySummary s = new TcpReplay(r, tuning, options, tcp).run();
        System.out.println("tcp replay of " + r.topic() + ": " + s.summaryLine());
        return s;
    }

    /** A new one-partition topic. */
    String topic() throws Exception {
        String t = "tb.capture.tcp" + topics.incrementAndGet();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(t, 1, (short) 1))).all().get();
        }
        return t;
    }

    /** Requests by URI from access-log lines "addr:port uri length". */
    static Map<String, Integer> countUris(List<String> log) {
        Map<String, Integer> m = new HashMap<>();
        for (String line : log) {
            m.merge(line.split(" ")[1], 1, Integer::sum);
        }
        return m;
    }
}
