package dev.trafficbus.faults;

import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.subscription.ProcessMain;
import dev.trafficbus.subscription.ProcessorApp;
import dev.trafficbus.subscription.ProcessorSettings;
import dev.trafficbus.subscription.Subscription;
import dev.trafficbus.subscription.SubscriptionCounters;
import dev.trafficbus.subscription.SubscriptionParser;
import dev.trafficbus.subscription.SubscriptionStore;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The processor on a 3-broker cluster, compared with a fault-free run of the same subscriptions over the same capture.
 * The capture is the real tcpdump capture testdata/http-sessions.pcap (16 HTTP sessions) forwarded as four sources;
 * one fault-free run (shared by the tests) reads those, each faulty run reads record-for-record copies of them (same
 * partitions, values and forwarder sequence numbers, so the same session decisions) that arrive while the fault happens. The subscriptions
 * sample (a hash of subscription, flow and sequence), amplify, filter on the first HTTP request and redact.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@ExtendWith(ThreeBrokers.Shared.class)
class ProcessorFailoverTest {
    private static final int SOURCES = 4;
    private static final int SESSIONS = 16 * SOURCES;
    private static ThreeBrokers cluster;

    @BeforeAll
    static void start() {
        cluster = ThreeBrokers.shared();
    }

    @AfterEach
    void removeSubscriptions() {
        // Every processor applies every subscription in the store: later tests' processors must not work on these.
        SubscriptionStore store = new SubscriptionStore(cluster.clientConfig(), Duration.ofSeconds(30));
        for (String name : store.definitions().keySet()) {
            if (name.startsWith("cl-")) {
                store.remove(name);
            }
        }
    }

    @Test
    void exactlyOnceProcessingWritesWhatAFaultFreeRunWritesWhenALeaderDies(@TempDir Path dir) throws Exception {
        Run run = Run.shared();
        Map<String, Map<String, List<String>>> reference = run.reference;
        Faulty faulty = run.faulty("eos");
        try (ProcessorApp app = startApp("cl-eos", dir.resolve("faulty"), run.subscriptions(faulty.copies), true)) {
            faulty.copy(0);
            ThreeBrokers.await("the first output of the faulty run", Duration.ofSeconds(60),
                    () -> !faulty.output(run.halfTopic()).isEmpty());
            int victim = cluster.leaderOf(run.halfTopic(), 0);
            cluster.kill(victim);
            for (int i = 1; i < SOURCES; i++) {
                faulty.copy(i);
            }
            Map<String, Map<String, List<String>>> got = faulty.awaitOutputs(List::equals);
            System.out.printf("exactly-once failover: broker %d killed; %s%n", victim, Run.describe(got));
            assertThat(got).isEqualTo(reference);
            Thread.sleep(2000); // anything more would be a duplicate: give it a moment to show
            assertThat(faulty.outputs()).isEqualTo(reference);
        }
    }

    @Test
    void theSurvivorOfTwoProcessorsTakesOverWithTheSameDecisions(@TempDir Path dir) throws Exception {
        Run run = Run.shared();
        Map<String, Map<String, List<String>>> reference = run.reference;
        Faulty faulty = run.faulty("pair");
        new SubscriptionStore(cluster.clientConfig(), Duration.ofSeconds(30)).put(run.subscriptions(faulty.copies));

        List<ChildJvm> members = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                members.add(ChildJvm.start(dir.resolve("member" + i + ".log"), ProcessMain.class,
                        "--bootstrap-servers", cluster.bootstrapServers(), "--application-id", "cl-pair",
                        "--metrics-port", "-1", "--partitions", "3", "--state-dir", dir.resolve("state" + i).toString(),
                        // so the survivor need not wait 45 s for the dead member to leave the group
                        "--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=1000"));
            }
            try (Admin admin = cluster.admin()) {
                ThreeBrokers.await("both processors with a share of the tasks", Duration.ofSeconds(90),
                        () -> ChildJvm.shareGroup(admin, "cl-pair", members));
            }
            faulty.copy(0);
            ThreeBrokers.await("the first output of the pair", Duration.ofSeconds(60),
                    () -> !faulty.output(run.halfTopic()).isEmpty());
            ChildJvm killed = members.get(0);
            killed.kill();
            for (int i = 1; i < SOURCES; i++) {
                faulty.copy(i);
            }
            // At-least-once: the survivor redoes what the killed one processed after its last commit, so a record may
            // come twice; each session's decision, and what of it is kept, must be the fault-free run's.
            Map<String, Map<String, List<String>>> got = faulty.awaitOutputs(
                    (a, b) -> new LinkedHashSet<>(a).equals(new LinkedHashSet<>(b)));
            long duplicates = records(got) - records(reference);
            System.out.printf("processor takeover: member %d killed; %s; %d records written twice%n", killed.pid(),
                    Run.describe(got), duplicates);
            for (String topic : reference.keySet()) {
                assertThat(got.get(topic).keySet()).as("sessions kept in " + topic).isEqualTo(reference.get(topic).keySet());
                got.get(topic).forEach((session, values) -> assertThat(new LinkedHashSet<>(values))
                        .as(session + " in " + topic).isEqualTo(new LinkedHashSet<>(reference.get(topic).get(session))));
            }
            ChildJvm survivor = members.get(1);
            assertThat(survivor.isAlive()).as(survivor.log()).isTrue();
            // SIGTERM runs the command's orderly stop (close, summary); the JVM then exits 128 + 15.
            assertThat(survivor.stop()).as(survivor.log()).isEqualTo(143);
            assertThat(survivor.log()).contains("process: " + run.name + "-half: ");
        } finally {
            for (ChildJvm m : members) {
                m.close();
            }
        }
    }

    private static long records(Map<String, Map<String, List<String>>> outputs) {
        return outputs.values().stream().flatMap(m -> m.values().stream()).mapToLong(List::size).sum();
    }

    static ProcessorApp startApp(String appId, Path stateDir, List<Subscription> subscriptions, boolean exactlyOnce)
            throws InterruptedException {
        java.util.Properties props = cluster.clientConfig();
        props.setProperty("metadata.max.age.ms", "1000");
        return new ProcessorApp(new ProcessorApp.Config(props, appId, subscriptions, TopicSpec.of(null, 3), exactlyOnce, 1, stateDir,
                ProcessorSettings.defaults(), Duration.ofSeconds(1), Duration.ofSeconds(30)), null).start();
    }

    /**
     * The capture forwarded as {@value #SOURCES} sources, the subscriptions, and what a fault-free run of one processor
     * (exactly-once) wrote: made once, for every test of the class.
     */
    private static final class Run {
        private static Run shared;
        final String name = "cl-proc";
        final List<String> sources = IntStream.rangeClosed(1, SOURCES).mapToObj(i -> name + "-ref" + i).toList();
        Map<String, Map<String, List<String>>> reference;

        static synchronized Run shared() throws Exception {
            if (shared == null) {
                Run run = new Run();
                cluster.createTopics(6, run.sources.stream().map(s -> "tb.capture." + s).toArray(String[]::new));
                for (String source : run.sources) {
                    ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(
                            CapturedPackets.testdata("http-sessions.pcap"), Set.of(8080), source, cluster.clientConfig(),
                            false, Duration.ofMillis(5), 4));
                    assertThat(s.publishErrors()).isZero();
                }
                run.reference = run.runFaultFree();
                shared = run;
            }
            return shared;
        }

        String halfTopic() {
            return "tb.sub." + name + "-half";
        }

        String urlsTopic() {
            return "tb.sub." + name + "-urls";
        }

        List<Subscription> subscriptions(List<String> from) {
            String list = String.join(", ", from);
            return SubscriptionParser.parseAll("""
                    - name: %1$s-half
                      sources: [%2$s]
                      sample: 50%%
                      amplify: 2
                    - name: %1$s-urls
                      sources: [%2$s]
                      filter: {http: {allow-url: ['^/s1[1-6]/']}}
                      redact: {headers: [User-Agent]}
                    """.formatted(name, list));
        }

        /** One processor over the sources until every session is decided, then stopped: its output, by session. */
        private Map<String, Map<String, List<String>>> runFaultFree() throws Exception {
            Path state = java.nio.file.Files.createTempDirectory("cl-proc-ref");
            try (ProcessorApp app = startApp(name + "-ref", state, subscriptions(sources), true)) {
                ThreeBrokers.await("every session decided in the fault-free run", Duration.ofSeconds(90), () -> {
                    for (String sub : List.of(name + "-half", name + "-urls")) {
                        SubscriptionCounters c = app.counters().of(sub);
                        long dropped = c.droppedByReason().values().stream().mapToLong(Long::longValue).sum();
                        if (c.sessionsIn() != SESSIONS || c.sessionsKept() + dropped != SESSIONS) {
                            return false;
                        }
                    }
                    return true;
                });
                Thread.sleep(1500); // the last commit of what was decided
            }
            Map<String, Map<String, List<String>>> out = new TreeMap<>();
            for (String topic : List.of(halfTopic(), urlsTopic())) {
                out.put(topic, TopicContents.bySession(TopicContents.read(cluster, topic, Map.of())));
            }
            assertThat(out.get(halfTopic()).size()).as("copies of sampled sessions").isBetween(2, 2 * SESSIONS - 2);
            assertThat(out.get(urlsTopic())).as("the keep-alive sessions /s11 to /s16 of each source").hasSize(6 * SOURCES);
            return out;
        }

        /** A faulty run's sources: empty topics for copies of the sources; its output starts where the topics end now. */
        Faulty faulty(String tag) throws Exception {
            List<String> copies = IntStream.rangeClosed(1, SOURCES).mapToObj(i -> name + "-" + tag + i).toList();
            cluster.createTopics(6, copies.stream().map(s -> "tb.capture." + s).toArray(String[]::new));
            Map<String, Map<Integer, Long>> from = new LinkedHashMap<>();
            for (String topic : reference.keySet()) {
                from.put(topic, TopicContents.ends(cluster, topic));
            }
            return new Faulty(this, copies, from);
        }

        static String describe(Map<String, Map<String, List<String>>> got) {
            StringBuilder sb = new StringBuilder();
            got.forEach((topic, sessions) -> sb.append(sb.length() == 0 ? "" : ", ").append(topic).append(' ')
                    .append(sessions.size()).append(" sessions in ")
                    .append(sessions.values().stream().mapToInt(List::size).sum()).append(" records"));
            return sb.toString();
        }
    }

    /** A run with a fault: its copies of the sources, and what it wrote after the earlier runs' output. */
    private record Faulty(Run run, List<String> copies, Map<String, Map<Integer, Long>> from) {
        /** Copies source {@code i} into its copy's topic. */
        void copy(int i) throws Exception {
            TopicContents.copyCapture(cluster, "tb.capture." + run.sources.get(i), "tb.capture." + copies.get(i),
                    copies.get(i));
        }

        /** What this run wrote to {@code topic} so far, by session. */
        Map<String, List<String>> output(String topic) throws Exception {
            return TopicContents.bySession(TopicContents.read(cluster, topic, from.get(topic)));
        }

        Map<String, Map<String, List<String>>> outputs() throws Exception {
            Map<String, Map<String, List<String>>> out = new TreeMap<>();
            for (String topic : from.keySet()) {
                out.put(topic, output(topic));
            }
            return out;
        }

        interface Same {
            boolean test(List<String> got, List<String> want);
        }

        /** Waits (up to 120 s) until every session of the reference is in this run's output as {@code same} says. */
        Map<String, Map<String, List<String>>> awaitOutputs(Same same) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (true) {
                Map<String, Map<String, List<String>>> got = outputs();
                boolean all = true;
                for (String topic : run.reference.keySet()) {
                    for (Map.Entry<String, List<String>> e : run.reference.get(topic).entrySet()) {
                        List<String> g = got.get(topic).get(e.getKey());
                        all &= g != null && same.test(g, e.getValue());
                    }
                }
                if (all || System.nanoTime() > deadline) {
                    return got;
                }
                Thread.sleep(500);
            }
        }
    }
}
