package dev.trafficbus.replay;

import dev.trafficbus.cli.CommandOutput;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * replay --http-allow-url, --http-deny-url and --http-allow-method, from the command line: on HTTP/1.x requests
 * (testdata/http-sessions.pcap into a JDK HttpServer) and on gRPC calls over HTTP/2 (testdata/grpc-calls.pcap
 * into the python3-grpcio server), each request left out counted as request-filtered and never sent.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RequestFilterTest {
    private static TestKafka kafka;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        kafka = new TestKafka();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static CommandOutput replay(String topic, String target, String... more) {
        List<String> args = new ArrayList<>(List.of("--topic", topic, "--target", target,
                "--bootstrap-servers", kafka.bootstrapServers(), "--until-end", "--speed", "max"));
        args.addAll(List.of(more));
        return CommandOutput.run(new ReplayCommand(), args.toArray(String[]::new));
    }

    private static long problem(CommandOutput o, String name) {
        Matcher m = Pattern.compile("\\b" + Pattern.quote(name) + "=(\\d+)").matcher(o.out());
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    @Test
    void http1RequestsAreLeftOutByTargetAndMethodAndCounted() throws Exception {
        CaptureFixture http = CaptureFixture.load("http-sessions");
        String topic = "tb.capture.filter-http1";
        kafka.createTopic(topic, 2);
        http.publish(kafka.bootstrapServers(), topic, "web1", 1);
        Map<String, Long> kept = new TreeMap<>();
        long left = 0;
        for (CaptureFixture.Expected e : http.expected) {
            if (e.method().equals("GET") && !e.path().matches("^/s1[0-4]/.*")) {
                kept.merge(e.path(), 1L, Long::sum);
            } else {
                left++;
            }
        }
        try (RecordingHttpServer server = new RecordingHttpServer()) {
            CommandOutput o = replay(topic, TargetAddress.show(server.address()),
                    "--http-deny-url", "^/s1[0-4]/", "--http-allow-method", "GET");

            assertThat(o.exitCode()).as(o.err()).isZero();
            Map<String, Long> got = new TreeMap<>();
            server.requests.forEach(r -> got.merge(r.path(), 1L, Long::sum));
            assertThat(got).isEqualTo(kept);
            assertThat(left).isGreaterThanOrEqualTo(10);
            assertThat(problem(o, "request-filtered")).as(o.out()).isEqualTo(left);
            assertThat(problem(o, "response-timeout")).as(o.out()).isZero();
        }
    }

    @Test
    void allowUrlOnAGrpcCaptureReplaysOnlyThatMethodsCalls() throws Exception {
        CaptureFixture.PathCounts e = CaptureFixture.pathCounts("grpc-calls");
        String topic = "tb.capture.filter-grpc";
        kafka.createTopic(topic, 2);
        CaptureFixture.packetsOf("grpc-calls", e.port()).publish(kafka.bootstrapServers(), topic, "grpc", 1);
        int port = LocalServers.freePort();
        Path log = dir.resolve("grpc.log");
        Process server = Http2ReplayTest.grpcServer(port, log);
        try {
            CommandOutput o = replay(topic, "127.0.0.1:" + port, "--http-allow-url", "^/tb\\.test\\.Greeter/SayHello$");

            assertThat(o.exitCode()).as(o.err()).isZero();
            String say = "/tb.test.Greeter/SayHello";
            assertThat(Http2ReplayTest.grpcCalls(log)).isEqualTo(Map.of(say, e.paths().get(say)));
            assertThat(problem(o, "request-filtered")).as(o.out()).isEqualTo(e.requests() - e.paths().get(say));
            assertThat(problem(o, "response-timeout")).as(o.out()).isZero();
        } finally {
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
