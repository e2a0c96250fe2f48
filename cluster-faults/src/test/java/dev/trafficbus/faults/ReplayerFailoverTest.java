package dev.trafficbus.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.replay.ReplayMain;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two replayers of one consumer group share a capture topic of a 3-broker cluster; one is killed (SIGKILL to its JVM)
 * while it replays. The other takes its partitions over and replays what the dead one had not finished; every captured
 * request reaches the server, the survivor's ledger reconciles, and the sessions replayed twice are exactly those the
 * server saw from both. Each replayer has a port of its own on the server, so the server tells who sent what.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@ExtendWith(ThreeBrokers.Shared.class)
class ReplayerFailoverTest {
    private static ThreeBrokers cluster;

    @BeforeAll
    static void start() {
        cluster = ThreeBrokers.shared();
    }

    @Test
    void theSurvivorReplaysTheSessionsOfAKilledMember(@TempDir Path dir) throws Exception {
        String topic = "tb.capture.cl-replay";
        cluster.createTopics(6, topic);
        Set<String> sessions = Files.readAllLines(CapturedPackets.testdata("http-sessions.expected")).stream()
                .filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> session(l.split(" ")[2]))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(sessions).hasSize(16);
        long t0 = System.nanoTime();
        StringBuilder phases = new StringBuilder();
        Runnable mark = () -> phases.append(String.format(" %.1f", (System.nanoTime() - t0) / 1e9));
        try (RecordingServer server = new RecordingServer()) {
            List<ChildJvm> members = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    members.add(ChildJvm.start(dir.resolve("replayer" + i + ".log"), ReplayMain.class,
                            "--topic", topic, "--target", "127.0.0.1:" + server.port(i),
                            "--bootstrap-servers", cluster.bootstrapServers(), "--speed", "max", "--rate", "2/s",
                            "--group", "cl-replay", "--report", dir.resolve("replayer" + i + ".json").toString(),
                            // so the survivor need not wait 45 s for the dead member to leave the group
                            "--kafka-property", "session.timeout.ms=6000",
                            "--kafka-property", "heartbeat.interval.ms=1000"));
                }
                try (Admin admin = cluster.admin()) {
                    ThreeBrokers.await("both replayers with a share of the partitions", Duration.ofSeconds(90),
                            () -> ChildJvm.shareGroup(admin, "cl-replay", members));
                }
                mark.run();
                // Published once both own partitions: each replays its own share from the start.
                ForwardSummary s = PcapForwarder.forward(new PcapForwardRequest(
                        CapturedPackets.testdata("http-sessions.pcap"), Set.of(8080), "cl-replay", cluster.clientConfig(),
                        false));
                assertThat(s.publishErrors()).isZero();
                ThreeBrokers.await("the first request of the member to kill", Duration.ofSeconds(60),
                        () -> !server.sessionsOn(0).isEmpty());
                // Killed in the middle of its share: some sessions finished and committed (it commits every second),
                // some running, some not begun.
                Thread.sleep(2500);
                ChildJvm victim = members.get(0);
                ChildJvm survivor = members.get(1);
                victim.kill();
                mark.run();
                Thread.sleep(500); // what the victim sent before it died is read by the server
                Set<String> byVictim = server.sessionsOn(0);
                ThreeBrokers.await("every session at the server", Duration.ofSeconds(90), () -> {
                    Set<String> all = new HashSet<>(server.sessionsOn(0));
                    all.addAll(server.sessionsOn(1));
                    return all.equals(sessions);
                });
                mark.run();
                Thread.sleep(1000); // the survivor's last answers and commits
                survivor.stop();
                mark.run();
                String log = survivor.log();
                JsonNode ledger = new ObjectMapper().readTree(dir.resolve("replayer1.json").toFile()).path("ledger");
                Set<String> bySurvivor = server.sessionsOn(1);
                Set<String> twice = new TreeSet<>(byVictim);
                twice.retainAll(bySurvivor);
                System.out.printf("replayer takeover: victim replayed %d sessions before SIGKILL, the survivor %d "
                                + "(%d of them twice); survivor ledger %s; s to group, kill, all sessions, stop:%s%n",
                        byVictim.size(), bySurvivor.size(), twice.size(), ledger, phases);

                Set<String> leftToSurvivor = new TreeSet<>(sessions);
                leftToSurvivor.removeAll(byVictim);
                assertThat(bySurvivor).as("the survivor replays what the victim never began").containsAll(leftToSurvivor);
                assertThat(server.pathsOn(0).size() + server.pathsOn(1).size())
                        .as("requests: each captured one at least once").isGreaterThanOrEqualTo(server.expectedRequests);
                long replayed = ledger.path("replayed").asLong();
                long leftOut = 0;
                for (JsonNode n : ledger.path("leftOutByReason")) {
                    leftOut += n.asLong();
                }
                long notReplayed = 0;
                for (JsonNode n : ledger.path("notReplayedByOutcome")) {
                    notReplayed += n.asLong();
                }
                assertThat(ledger.path("captured").asLong()).as(log).isEqualTo(ledger.path("inWindow").asLong() + leftOut);
                assertThat(ledger.path("inWindow").asLong()).as(log).isEqualTo(replayed + notReplayed);
                assertThat(ledger.path("answered").asLong()).as(log).isEqualTo(replayed);
                assertThat(replayed).as("the survivor's ledger counts the sessions the server saw from it")
                        .isEqualTo(bySurvivor.size());
                // Duplicates, counted: the victim's sessions the survivor replayed again are those both sent.
                assertThat(byVictim.size() + replayed - sessions.size()).isEqualTo(twice.size());
                // At-least-once, not all over again: what the victim committed (offsets, or finished sessions named in
                // the commit's metadata and skipped as already-replayed) is not repeated.
                assertThat(twice.size()).as("sessions replayed twice").isLessThan(byVictim.size());
            } finally {
                for (ChildJvm m : members) {
                    m.close();
                }
            }
        }
    }

    /** "/s03/r02" -> "s03": the captured session a request belongs to. */
    private static String session(String path) {
        return path.split("/")[1];
    }

    /** A real HTTP/1.1 server (the JDK's) on two ports, one per replayer, recording each request's path by port. */
    private static final class RecordingServer implements AutoCloseable {
        private final List<HttpServer> servers = new ArrayList<>();
        private final java.util.concurrent.ExecutorService handlers = Executors.newFixedThreadPool(4);
        private final List<List<String>> paths = List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        final int expectedRequests;

        RecordingServer() throws IOException {
            expectedRequests = (int) Files.readAllLines(CapturedPackets.testdata("http-sessions.expected")).stream()
                    .filter(l -> !l.startsWith("#") && !l.isBlank()).count();
            for (int i = 0; i < 2; i++) {
                int index = i;
                HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
                server.createContext("/", ex -> {
                    ex.getRequestBody().readAllBytes();
                    paths.get(index).add(ex.getRequestURI().getRawPath());
                    byte[] ok = "ok\n".getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(200, ok.length);
                    ex.getResponseBody().write(ok);
                    ex.close();
                });
                server.setExecutor(handlers);
                server.start();
                servers.add(server);
            }
        }

        int port(int i) {
            return servers.get(i).getAddress().getPort();
        }

        List<String> pathsOn(int i) {
            return List.copyOf(paths.get(i));
        }

        Set<String> sessionsOn(int i) {
            return paths.get(i).stream().map(ReplayerFailoverTest::session).collect(Collectors.toCollection(TreeSet::new));
        }

        @Override
        public void close() {
            servers.forEach(s -> s.stop(0));
            handlers.shutdownNow();
        }
    }
}
