package dev.trafficbus.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.acls.AclsCommand;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.capture.ForwardCommand;
import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.replay.ReplayCommand;
import dev.trafficbus.standalone.EmbeddedBroker;
import dev.trafficbus.standalone.ListenAddress;
import dev.trafficbus.standalone.SaslUsers;
import dev.trafficbus.status.StatusCommand;
import dev.trafficbus.subscription.ProcessMain;
import dev.trafficbus.subscription.ProcessorApp;
import dev.trafficbus.subscription.ProcessorSettings;
import dev.trafficbus.subscription.SubscribeMain;
import dev.trafficbus.subscription.UnsubscribeMain;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code broker --sasl-users}: real SCRAM logins, the standard authorizer, and the ACLs that {@code subscribe} and
 * {@code trafficbus acls} grant, exercised by the real commands with each team's own credentials.
 */
class AccessControlTest {
    /** The example capture holds 16 HTTP sessions to port 8080. */
    private static final int EXAMPLE_SESSIONS = 16;
    private static final List<String> USERS = List.of("admin", "team-a", "team-b", "team-c", "fwd-web1", "processor");

    private static Path dir;
    private static EmbeddedBroker broker;
    private static SaslUsers users;
    private static HttpServer target;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("trafficbus-acl-");
        Path file = dir.resolve("users.txt");
        StringBuilder lines = new StringBuilder("# user:password\n");
        USERS.forEach(u -> lines.append(u).append(':').append(u).append("-secret\n"));
        Files.writeString(file, lines);
        users = SaslUsers.read(file);
        broker = EmbeddedBroker.startSecured(new ListenAddress("127.0.0.1", 0), null, users);
        for (String u : USERS) {
            Properties p = users.clientProperties(u);
            try (OutputStream out = Files.newOutputStream(config(u))) {
                p.store(out, "client settings of " + u);
            }
        }
        target = SecuredKafkaTest.okServer();
    }

    @AfterAll
    static void stop() throws IOException {
        if (target != null) {
            target.stop(0);
        }
        if (broker != null) {
            broker.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void theOwningTeamReplaysItsSubscriptionAndNobodyElseReadsIt() throws Exception {
        assertThat(run(new AclsCommand(), "admin", "--role", "processor", "--apply").exitCode()).isZero();
        CommandOutput forward = run(new ForwardCommand(), "admin", "--pcap", SecuredKafkaTest.examplePcap().toString(),
                "--port", "8080", "--source", "shop");
        assertThat(forward.exitCode()).as(forward.err()).isZero();
        Path subs = dir.resolve("team-a.yaml");
        // A sampled subscription too: its session state needs the processor's Streams topics (changelogs).
        Files.writeString(subs, "- {name: team-a, sources: [shop], readers: [team-a]}\n"
                + "- {name: sampled, sources: [shop], sample: 50%}\n");
        CommandOutput subscribe = run(new SubscribeMain(), "admin", "--file", subs.toString());
        assertThat(subscribe.exitCode()).as(subscribe.err()).isZero();
        assertThat(subscribe.out()).contains("readers User:team-a").contains("4 ACLs granted to readers User:team-a");

        ProcessorApp.Config config = new ProcessorApp.Config(clientProperties("processor"), "trafficbus-processor",
                List.of(), TopicSpec.of(null, 6), false, 1, dir.resolve("streams"), ProcessorSettings.defaults(), Duration.ofSeconds(1),
                Duration.ofSeconds(30));
        try (MetricsEndpoint metrics = new MetricsEndpoint("process")) {
            ProcessorApp processor = new ProcessorApp(config, metrics).start();
            try {
                awaitSameRecordCount(Topics.capture("shop"), Topics.subscription("team-a"));
                assertThat(processor.refusal()).isNull();
                awaitRecords(Topics.subscription("sampled"));
            } finally {
                processor.close();
            }
        }

        // The replayer role: its run ledger in tb.runs and its own response topics tb.responses.team-a.*.
        String[] replayerRole = {"--role", "replayer", "--principal", "team-a"};
        assertThat(run(new AclsCommand(), "admin", concat(replayerRole, "--apply")).exitCode()).isZero();
        Path report = dir.resolve("team-a-run.json");
        CommandOutput replay = replay("team-a", Topics.subscription("team-a"), "--report", report.toString(),
                "--run", "team-a.first", "--capture-responses");
        assertThat(replay.exitCode()).as(replay.err()).isZero();
        JsonNode ledger = new ObjectMapper().readTree(report.toFile());
        assertThat(ledger.path("sessions").path("replayed").asLong()).isEqualTo(EXAMPLE_SESSIONS);
        assertThat(ledger.path("sessions").path("failed").asLong()).isZero();
        assertThat(ledger.path("runRecord").asText()).isEqualTo("published to " + Topics.RUNS);
        assertThat(recordCount(Topics.responses("team-a.first"))).isPositive();
        assertThat(run(new AclsCommand(), "admin", concat(replayerRole, "--revoke")).exitCode()).isZero();

        assertRefused(replay("team-b", Topics.subscription("team-a")), "replay", "User:team-b",
                "DESCRIBE on topic " + Topics.subscription("team-a"));
        for (String team : List.of("team-a", "team-b")) {
            assertRefused(replay(team, Topics.capture("shop")), "replay", "User:" + team,
                    "DESCRIBE on topic " + Topics.capture("shop"));
        }
        assertRefused(run(new SubscribeMain(), "team-b", "--file", subs.toString()), "subscribe", "User:team-b",
                "CREATE on topic");
        assertRefused(run(new StatusCommand(), "team-b", "--timeout", "20"), "status", "User:team-b",
                "DESCRIBE on topic " + Topics.SUBSCRIPTIONS);
        assertRefused(run(new ProcessMain(), "team-b", "--metrics-port", "-1", "--state-dir",
                dir.resolve("streams-b").toString()), "process", "User:team-b", "CREATE on topic");

        CommandOutput unsubscribe = run(new UnsubscribeMain(), "admin", "--name", "team-a");
        assertThat(unsubscribe.exitCode()).as(unsubscribe.err()).isZero();
        assertThat(unsubscribe.out()).contains("4 ACLs revoked from User:team-a");
        assertThat(aclsOf("User:team-a")).isEmpty();
        assertRefused(replay("team-a", Topics.subscription("team-a")), "replay", "User:team-a",
                "DESCRIBE on topic " + Topics.subscription("team-a"));
    }

    @Test
    void unsubscribeRevokesOnlyWhatNoOtherSubscriptionGrants() throws Exception {
        Path subs = dir.resolve("team-b.yaml");
        Files.writeString(subs, "- {name: team-b-one, sources: [web9], readers: ['User:team-b']}\n"
                + "- {name: team-b-two, sources: [web9], readers: [team-b]}\n");
        assertThat(run(new SubscribeMain(), "admin", "--file", subs.toString()).exitCode()).isZero();
        // Both grant the group prefix team-b.; each its own topic and default group: 2 x 3 + 1.
        assertThat(aclsOf("User:team-b")).hasSize(7);

        assertThat(run(new UnsubscribeMain(), "admin", "--name", "team-b-one").exitCode()).isZero();
        Collection<AclBinding> left = aclsOf("User:team-b");
        assertThat(left).hasSize(4).allSatisfy(b -> assertThat(b.pattern().name()).doesNotContain("team-b-one"));
        assertThat(left).anySatisfy(b -> {
            assertThat(b.pattern().resourceType()).isEqualTo(ResourceType.GROUP);
            assertThat(b.pattern().patternType()).isEqualTo(PatternType.PREFIXED);
            assertThat(b.pattern().name()).isEqualTo("team-b.");
        });

        // Replacing the subscription without readers takes back what it granted.
        Files.writeString(subs, "name: team-b-two\nsources: [web9]\n");
        assertThat(run(new SubscribeMain(), "admin", "--file", subs.toString()).out()).contains("4 ACLs revoked");
        assertThat(aclsOf("User:team-b")).isEmpty();
    }

    @Test
    void theForwarderRoleWritesItsOwnCaptureTopicAndNoOther() throws Exception {
        CommandOutput printed = CommandOutput.run(new AclsCommand(), "--role", "forwarder", "--source", "web1",
                "--bootstrap-servers", broker.bootstrapServers());
        assertThat(printed.exitCode()).isZero();
        assertThat(printed.out()).contains("User:fwd-web1").contains("WRITE").contains("tb.capture.web1")
                .doesNotContain("tb.capture.web2");
        assertThat(run(new AclsCommand(), "admin", "--role", "forwarder", "--source", "web1", "--apply").exitCode())
                .isZero();

        CommandOutput own = run(new ForwardCommand(), "fwd-web1", "--pcap", SecuredKafkaTest.examplePcap().toString(),
                "--port", "8080", "--source", "web1");
        assertThat(own.exitCode()).as(own.err()).isZero();
        assertThat(recordCount(Topics.capture("web1"))).isPositive();

        assertRefused(run(new ForwardCommand(), "fwd-web1", "--pcap", SecuredKafkaTest.examplePcap().toString(),
                "--port", "8080", "--source", "web2"), "forward", "User:fwd-web1", "on topic tb.capture.web2");
        assertRefused(run(new ForwardCommand(), "team-a", "--pcap", SecuredKafkaTest.examplePcap().toString(),
                "--port", "8080", "--source", "web1"), "forward", "User:team-a", "on topic tb.capture.web1");
    }

    @Test
    void aProcessorWithoutItsGroupIsRefusedInOneLine() {
        // team-c gets the processor ACLs of another application id, so its Streams group is not among them.
        String[] acls = {"--role", "processor", "--principal", "User:team-c", "--application-id", "other"};
        assertThat(run(new AclsCommand(), "admin", concat(acls, "--apply")).exitCode()).isZero();
        try {
            // In its own JVM, as the launcher runs it: what a user sees includes the logging its main sets up.
            CommandOutput process = SecuredKafkaTest.runMain("dev.trafficbus.subscription.ProcessMain",
                    "--metrics-port", "-1", "--state-dir", dir.resolve("streams-c").toString(),
                    "--bootstrap-servers", broker.bootstrapServers(), "--kafka-config", config("team-c").toString());
            assertRefused(process, "process", "User:team-c", "READ on group trafficbus-processor");
        } finally {
            assertThat(run(new AclsCommand(), "admin", concat(acls, "--revoke")).exitCode()).isZero();
        }
    }

    private static String[] concat(String[] a, String b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }

    private static CommandOutput replay(String user, String topic, String... more) {
        List<String> args = new ArrayList<>(List.of("--topic", topic,
                "--target", "127.0.0.1:" + target.getAddress().getPort(), "--speed", "max", "--until-end",
                "--allow-production-target"));
        args.addAll(List.of(more));
        return run(new ReplayCommand(), user, args.toArray(String[]::new));
    }

    /** Runs a command in-process with {@code user}'s credentials. */
    private static CommandOutput run(Object command, String user, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap-servers", broker.bootstrapServers(), "--kafka-config", config(user).toString()));
        return CommandOutput.run(command, all.toArray(String[]::new));
    }

    /** Exit 2, no stack trace, and one last line naming the principal, the operation and the resource. */
    private static void assertRefused(CommandOutput run, String command, String principal, String what) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.hasStackTrace()).as(run.err()).isFalse();
        String last = run.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertThat(last).startsWith("trafficbus " + command + ": Kafka denied " + principal + " ").contains(what);
    }

    private static Path config(String user) {
        return dir.resolve(user + ".properties");
    }

    private static Properties clientProperties(String user) {
        Properties p = users.clientProperties(user);
        p.put("bootstrap.servers", broker.bootstrapServers());
        return p;
    }

    private static Collection<AclBinding> aclsOf(String principal) throws Exception {
        try (Admin admin = Admin.create(clientProperties("admin"))) {
            return admin.describeAcls(new AclBindingFilter(ResourcePatternFilter.ANY, new AccessControlEntryFilter(
                    principal, null, AclOperation.ANY, AclPermissionType.ANY))).values().get(30, TimeUnit.SECONDS);
        }
    }

    private static long recordCount(String topic) throws Exception {
        try (Admin admin = Admin.create(clientProperties("admin"))) {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> request = new java.util.HashMap<>();
            for (int p = 0; p < partitions; p++) {
                request.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            return admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(o -> o.offset()).sum();
        }
    }

    /** Waits until {@code topic} exists and holds a record. */
    private static void awaitRecords(String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long seen = 0;
        while (seen == 0 && System.nanoTime() < deadline) {
            try {
                seen = recordCount(topic);
            } catch (java.util.concurrent.ExecutionException e) {
                seen = 0; // not created yet
            }
            Thread.sleep(250);
        }
        assertThat(seen).as("records in " + topic).isPositive();
    }

    /** Waits until the subscription topic holds as many records as the capture topic it copies unfiltered. */
    private static void awaitSameRecordCount(String capture, String subscription) throws Exception {
        long expected = recordCount(capture);
        assertThat(expected).isPositive();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        long seen = -1;
        while (System.nanoTime() < deadline) {
            try {
                seen = recordCount(subscription);
            } catch (java.util.concurrent.ExecutionException e) {
                seen = -1; // not created yet
            }
            if (seen >= expected) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(seen).as("records copied from " + capture + " to " + subscription).isEqualTo(expected);
    }
}
