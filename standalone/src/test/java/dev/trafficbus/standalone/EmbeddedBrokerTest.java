package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedded broker is a real Kafka broker: clients round-trip records, and a kept data dir keeps them. */
class EmbeddedBrokerTest {
    private static final String TOPIC = "tb.capture.broker-test";

    @TempDir
    Path tmp;

    @Test
    void startsOnAFreePortRoundTripsRecordsAndDeletesItsTemporaryData() throws Exception {
        Path data;
        try (EmbeddedBroker broker = EmbeddedBroker.start(new ListenAddress("127.0.0.1", 0), null)) {
            assertThat(broker.bootstrapServers()).matches("127\\.0\\.0\\.1:\\d+").doesNotEndWith(":0");
            assertThat(broker.isTemporary()).isTrue();
            data = broker.dataDir();
            assertThat(data.resolve("meta.properties")).exists();
            createTopic(broker.bootstrapServers());
            produce(broker.bootstrapServers(), "a", "b", "c");
            assertThat(consumeAll(broker.bootstrapServers(), 3)).containsExactly("a", "b", "c");
        }
        assertThat(data).doesNotExist();
    }

    @Test
    void aKeptDataDirSurvivesARestart() throws Exception {
        Path data = tmp.resolve("broker-data");
        try (EmbeddedBroker broker = EmbeddedBroker.start(new ListenAddress("127.0.0.1", 0), data)) {
            assertThat(broker.isTemporary()).isFalse();
            createTopic(broker.bootstrapServers());
            produce(broker.bootstrapServers(), "kept-1", "kept-2");
        }
        assertThat(data.resolve("meta.properties")).exists();
        String clusterId = clusterIdOf(data);

        try (EmbeddedBroker broker = EmbeddedBroker.start(new ListenAddress("127.0.0.1", 0), data)) {
            assertThat(clusterIdOf(data)).as("reused, not formatted again").isEqualTo(clusterId);
            assertThat(consumeAll(broker.bootstrapServers(), 2)).containsExactly("kept-1", "kept-2");
        }
    }

    @Test
    void aPortInUseIsAUserErrorNamingTheFix() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> EmbeddedBroker.start(new ListenAddress("127.0.0.1", port), null))
                    .isInstanceOf(UserInputException.class)
                    .hasMessage("127.0.0.1:" + port + " is in use; pass --listen 127.0.0.1:PORT");
        }
    }

    @Test
    void badListenAddressesAreUserErrors() {
        assertThat(ListenAddress.parse("127.0.0.1:9092")).isEqualTo(ListenAddress.DEFAULT);
        assertThat(ListenAddress.parse("[::1]:0")).isEqualTo(new ListenAddress("::1", 0));
        for (String bad : List.of("9092", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:70000")) {
            assertThatThrownBy(() -> ListenAddress.parse(bad)).isInstanceOf(UserInputException.class)
                    .hasMessageContaining(bad);
        }
    }

    /** The broker command as a user runs it: ready line, then a clean stop on SIGTERM (what Ctrl-C and kill send). */
    @Test
    @Timeout(180)
    void theBrokerCommandStopsCleanlyOnSigterm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                BrokerMain.class.getName(), "--listen", "127.0.0.1:0").redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String ready = readReadyLine(out, lines);
            Matcher m = Pattern.compile("broker ready at (127\\.0\\.0\\.1:\\d+) \\(data in (\\S+), deleted on exit\\)")
                    .matcher(String.valueOf(ready));
            assertThat(m.matches()).as("first line: %s", lines).isTrue();
            Path data = Path.of(m.group(2));
            assertThat(data).isDirectory();
            createTopic(m.group(1));

            process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s").isTrue();
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
            assertThat(lines).contains("broker stopped");
            assertThat(String.join("\n", lines)).doesNotContain("\tat ").doesNotContain("ERROR");
            assertThat(data).doesNotExist();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    @Timeout(180)
    void withSaslUsersTheBrokerSaysHowClientsConnectAndAuthorizesThem() throws Exception {
        Path users = Files.createTempFile("trafficbus-users", ".txt");
        Files.writeString(users, "admin:admin-secret\nteam-a:a-secret\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                BrokerMain.class.getName(), "--listen", "127.0.0.1:0", "--sasl-users", users.toString())
                .redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String ready = readReadyLine(out, lines);
            Matcher m = Pattern.compile("broker ready at (127\\.0\\.0\\.1:\\d+) with SASL/SCRAM-SHA-512 and ACLs "
                    + "\\(users admin, team-a; admin is the super user\\) \\(data in \\S+, deleted on exit\\)")
                    .matcher(String.valueOf(ready));
            assertThat(m.matches()).as("first line: %s", lines).isTrue();
            String address = m.group(1);
            assertThat(out.readLine()).startsWith("clients connect with --bootstrap-servers " + address
                    + " --kafka-config FILE holding security.protocol=SASL_PLAINTEXT, sasl.mechanism=SCRAM-SHA-512");

            SaslUsers file = SaslUsers.read(users);
            Properties admin = file.clientProperties("admin");
            admin.put("bootstrap.servers", address);
            try (Admin a = Admin.create(admin)) {
                a.createTopics(List.of(new NewTopic("tb.capture.by-admin", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            Properties team = file.clientProperties("team-a");
            team.put("bootstrap.servers", address);
            try (Admin a = Admin.create(team)) {
                assertThatThrownBy(() -> a.createTopics(List.of(new NewTopic("tb.capture.by-team", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(TopicAuthorizationException.class);
            }

            process.toHandle().destroy();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s").isTrue();
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
            assertThat(lines).contains("broker stopped");
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(users);
        }
    }

    /** The broker prints its ready line or dies; either ends the wait (and @Timeout bounds a hang). */
    private static String readReadyLine(BufferedReader out, List<String> lines) throws IOException {
        while (true) {
            String line = out.readLine();
            if (line == null) {
                return null;
            }
            lines.add(line);
            if (line.startsWith("broker ready at")) {
                return line;
            }
        }
    }

    private static String clusterIdOf(Path data) throws IOException {
        Properties meta = new Properties();
        try (var in = Files.newInputStream(data.resolve("meta.properties"))) {
            meta.load(in);
        }
        return meta.getProperty("cluster.id");
    }

    private static void createTopic(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(Set.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static void produce(String bootstrap, String... values) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (String v : values) {
                producer.send(new ProducerRecord<>(TOPIC, v)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> consumeAll(String bootstrap, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "broker-test-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
        }
        return values;
    }
}
