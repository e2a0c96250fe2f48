package dev.trafficbus.diff;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.trafficbus.bus.TestKafkaCluster;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.report.ReportInBrowser;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two real HTTP servers that differ on purpose (the price of item 2, and the Date header because they answer in
 * different seconds) answer the same requests; the pairs go to a real broker in the responses-topic format and
 * diff must find the price, ignore what it is told to ignore, and count every record.
 */
class DiffTwoServersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = "tb.capture.web1-20261121T140000";
    private static final String CLEAN_RUN = "clean";

    private static TestKafkaCluster cluster;
    private static HttpServer production;
    private static HttpServer test;

    @TempDir
    Path temp;

    /** One request as the replayer would have sent it. */
    private record Sent(String method, String path, String body) {
    }

    @BeforeAll
    static void setUp() throws Exception {
        DiffMain.quietClientLogs();
        production = server(10.0);
        test = server(12.5);
        cluster = TestKafkaCluster.start();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("tb.responses." + RUN, 6, (short) 1),
                    new NewTopic("tb.responses." + CLEAN_RUN, 6, (short) 1))).all().get();
        }
        List<Sent> requests = List.of(new Sent("GET", "/api/items?id=1", null), new Sent("GET", "/api/items?id=2", null),
                new Sent("GET", "/api/items?id=3", null), new Sent("GET", "/health", null),
                new Sent("POST", "/api/orders", "{\"sku\":\"A\",\"qty\":2}"));
        List<HttpResponse<byte[]>> fromProduction = call(production, requests);
        // The next wall-clock second: the test server's Date header then differs from production's, as in a real replay.
        Thread.sleep(1000 - Instant.now().toEpochMilli() % 1000 + 20);
        List<HttpResponse<byte[]>> fromTest = call(test, requests);
        assertThat(fromProduction.get(0).headers().firstValue("date"))
                .isPresent().isNotEqualTo(fromTest.get(0).headers().firstValue("date"));

        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                cluster.bootstrapServers(), "key.serializer", StringSerializer.class.getName(),
                "value.serializer", StringSerializer.class.getName()))) {
            String topic = "tb.responses." + RUN;
            List<ObjectNode> records = new ArrayList<>();
            for (int i = 0; i < requests.size(); i++) {
                records.add(record(RUN, "10.0.0.1:8080<-10.0.0.2:" + (40000 + i) + "#0", 0, requests.get(i),
                        fromTest.get(i), fromProduction.get(i), null));
            }
            // A request the test server never answered, one the capture holds no response for.
            records.add(record(RUN, "10.0.0.1:8080<-10.0.0.2:40100#0", 0, new Sent("GET", "/api/slow", null),
                    null, fromProduction.get(3), "response-timeout"));
            records.add(record(RUN, "10.0.0.1:8080<-10.0.0.2:40101#0", 1, new Sent("GET", "/api/new", null),
                    fromTest.get(3), null, null));
            for (ObjectNode r : records) {
                producer.send(new ProducerRecord<>(topic, r.get("session").asText(), r.toString()));
            }
            // A restarted replayer wrote the first pair again; another run shares the topic; one value is not JSON.
            producer.send(new ProducerRecord<>(topic, records.get(0).get("session").asText(), records.get(0).toString()));
            ObjectNode other = records.get(1).deepCopy();
            other.put("run", "another-run");
            producer.send(new ProducerRecord<>(topic, "x", other.toString()));
            producer.send(new ProducerRecord<>(topic, "y", "not json"));

            for (int i : new int[] {0, 3}) {
                producer.send(new ProducerRecord<>("tb.responses." + CLEAN_RUN, "s" + i,
                        record(CLEAN_RUN, "s" + i, 0, requests.get(i), fromProduction.get(i), fromProduction.get(i), null).toString()));
            }
            producer.flush();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (production != null) {
            production.stop(0);
        }
        if (test != null) {
            test.stop(0);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A server of a small item API; {@code priceOfItem2} is where the two servers differ. */
    private static HttpServer server(double priceOfItem2) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/api/items", ex -> {
            int id = Integer.parseInt(ex.getRequestURI().getQuery().substring("id=".length()));
            double price = id == 2 ? priceOfItem2 : id * 10.0;
            respond(ex, 200, "application/json", "{\"id\":" + id + ",\"name\":\"item " + id + "\",\"price\":" + price
                    + ",\"requestId\":\"" + UUID.randomUUID() + "\"}");
        });
        s.createContext("/health", ex -> respond(ex, 200, "text/plain", "ok\n"));
        s.createContext("/api/orders", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            respond(ex, 201, "application/json", "{\"order\":{\"items\":[{\"id\":7,\"line\":"
                    + new String(body, StandardCharsets.UTF_8) + "}]},\"requestId\":\"" + UUID.randomUUID() + "\"}");
        });
        s.start();
        return s;
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    private static List<HttpResponse<byte[]>> call(HttpServer server, List<Sent> requests) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        List<HttpResponse<byte[]>> out = new ArrayList<>();
        for (Sent s : requests) {
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + s.path());
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5));
            b = s.body() == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(s.body()));
            out.add(client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        return out;
    }

    /** A record value exactly as docs/archive.md describes it. */
    private static ObjectNode record(String run, String session, int index, Sent sent, HttpResponse<byte[]> replayed,
                                     HttpResponse<byte[]> production, String error) {
        ObjectNode r = JSON.createObjectNode();
        r.put("run", run);
        r.put("source", "web1");
        r.put("session", session);
        r.put("copy", 0);
        r.put("index", index);
        r.put("capturedAtMicros", 1_763_733_600_000_000L + index);
        int q = sent.path().indexOf('?');
        r.put("endpoint", sent.method() + " " + (q < 0 ? sent.path() : sent.path().substring(0, q)));
        ObjectNode req = r.putObject("request");
        req.put("method", sent.method());
        req.put("url", sent.path());
        req.putArray("headers").addArray().add("Host").add("staging.internal");
        req.put("bodyBase64", Base64.getEncoder().encodeToString(
                sent.body() == null ? new byte[0] : sent.body().getBytes(StandardCharsets.UTF_8)));
        side(r, "replayed", replayed, true);
        side(r, "production", production, false);
        if (error == null) {
            r.putNull("error");
        } else {
            r.put("error", error);
        }
        return r;
    }

    private static void side(ObjectNode r, String name, HttpResponse<byte[]> response, boolean latency) {
        if (response == null) {
            r.putNull(name);
            return;
        }
        ObjectNode s = r.putObject(name);
        s.put("status", response.statusCode());
        ArrayNode headers = s.putArray("headers");
        response.headers().map().forEach((k, values) -> values.forEach(v -> headers.addArray().add(k).add(v)));
        s.put("bodyBase64", Base64.getEncoder().encodeToString(response.body()));
        if (latency) {
            s.put("latencyMicros", 1234);
        }
    }

    private CommandOutput diff(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--bootstrap-servers";
        all[args.length + 1] = cluster.bootstrapServers();
        return CommandOutput.run(new DiffCommand(), all);
    }

    @Test
    void findsTheDifferingFieldAndIgnoresTheIgnoredHeaderAndPath() throws Exception {
        Path json = temp.resolve("diff.json");
        CommandOutput r = diff("--run", RUN, "--ignore-header", "Date", "--ignore-json-path", "$.requestId",
                "--report", json.toString());

        assertThat(r.exitCode()).isEqualTo(DiffCommand.EXIT_DIFFERENCES);
        assertThat(r.hasStackTrace()).isFalse();
        assertThat(r.out()).contains("diff run " + RUN + " (tb.responses." + RUN + "): 7 pairs, 4 equal, 1 different,"
                        + " 1 missing production, 1 missing replay (response-timeout 1)")
                .contains("GET /api/items: 3 pairs, 2 equal, 1 different")
                .contains("  body $.price: 1 pair")
                .contains("    body $.price: production 10.0, replayed 12.5")
                .contains("POST /api/orders: 1 pair, 1 equal, 0 different")
                .contains("GET /health: 1 pair, 1 equal")
                .contains("records: 10 read, 1 undecodable (not JSON 1), 1 of other runs, 1 duplicates")
                .doesNotContainIgnoringCase("header date")
                .doesNotContain("requestId:");

        JsonNode report = JSON.readTree(json.toFile());
        assertThat(report.at("/totals/pairs").asLong()).isEqualTo(7);
        assertThat(report.at("/totals/different").asLong()).isEqualTo(1);
        assertThat(report.at("/totals/missingReplayByError/response-timeout").asLong()).isEqualTo(1);
        JsonNode items = null;
        for (JsonNode e : report.get("endpoints")) {
            if (e.get("endpoint").asText().equals("GET /api/items")) {
                items = e;
            }
        }
        assertThat(items).isNotNull();
        assertThat(items.at("/differencesByField/body $.price").asLong()).isEqualTo(1);
        JsonNode example = items.at("/examples/0");
        assertThat(example.get("url").asText()).isEqualTo("/api/items?id=2");
        assertThat(example.at("/differences/0/field").asText()).isEqualTo("body $.price");
        assertThat(example.get("differences")).hasSize(1);
    }

    @Test
    void withoutIgnoresTheDateHeaderAndRequestIdsDiffer() throws Exception {
        Path html = temp.resolve("diff.html");
        CommandOutput r = diff("--run", RUN, "--report", html.toString());

        assertThat(r.exitCode()).isEqualTo(DiffCommand.EXIT_DIFFERENCES);
        assertThat(r.out()).contains("7 pairs, 0 equal, 5 different")
                .contains("  header date: 3 pairs")
                .contains("  body $.requestId: 3 pairs")
                .contains("GET /health: 1 pair, 0 equal, 1 different")
                .doesNotContain("header content-length");
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").endsWith("</html>\n")
                .contains("<code>GET /api/items</code>").contains("body $.price (1)").contains("header date (3)")
                .doesNotContain("<script").doesNotContain("http://").doesNotContain("https://");
        // Screenshot kept in the build output for a person to look at.
        ReportInBrowser.assertOpensWithoutErrors(html, Path.of("target", "diff-report.png"));
    }

    @Test
    void aRunWhoseResponsesAllMatchExitsZero() {
        CommandOutput r = diff("--run", CLEAN_RUN);
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("2 pairs, 2 equal, 0 different, 0 missing production, 0 missing replay");
    }

    @Test
    void badInputIsOneLineWithExitCode2() {
        CommandOutput missing = diff("--run", "nope");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).startsWith("trafficbus diff: topic tb.responses.nope does not exist at ")
                .contains("--capture-responses");
        assertThat(missing.hasStackTrace()).isFalse();

        CommandOutput badPath = diff("--run", RUN, "--ignore-json-path", "requestId");
        assertThat(badPath.exitCode()).isEqualTo(2);
        assertThat(badPath.err()).startsWith("trafficbus diff: --ignore-json-path 'requestId': must start with $");

        // A mistyped run id reads the whole topic and compares nothing: that must not pass a CI gate as "all equal".
        String typoRun = "tb.capture.web1-20261121T140001";
        CommandOutput typo = diff("--run", typoRun, "--responses-topic", "tb.responses." + RUN);
        assertThat(typo.exitCode()).isEqualTo(2);
        assertThat(typo.err().strip()).isEqualTo("trafficbus diff: no responses of run '" + typoRun + "' in"
                + " tb.responses." + RUN + " (9 records of other runs, 1 undecodable); check --run and --responses-topic");
        assertThat(typo.hasStackTrace()).isFalse();

        CommandOutput badRun = diff("--run", "a/b");
        assertThat(badRun.exitCode()).isEqualTo(2);
        assertThat(badRun.err()).startsWith("trafficbus diff: --run 'a/b' is not valid");
    }
}
