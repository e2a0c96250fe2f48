package dev.trafficbus.replay.tcp;

import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.middleware.MiddlewareCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --middleware} on the tcp engine: the tcpdump captures of short and keep-alive HTTP sessions (30 requests)
 * go through real programs speaking GoReplay's protocol and out as raw packets to the real nginx of the test
 * namespace. A request the program lengthens arrives whole, and so do the requests after it on a keep-alive
 * connection (sequence numbers move with it); a request it leaves out never reaches nginx and is counted.
 */
@Timeout(120)
class TcpMiddlewareTest extends TcpNetTest {
    private static final Path FIXTURES = Path.of("src", "test", "resources", "middleware");
    /** What add_header.py puts into every request. */
    private static final int ADDED = "X-Middleware: 1\r\n".length();

    @Test
    void aRequestTheMiddlewareLengthensArrivesWholeAndSoDoTheOnesAfterIt() throws Exception {
        String plain = publish();
        assertThat(replay(plain, ReplayOptions.defaults(), 8).messagesAnswered()).isEqualTo(30);
        Map<String, Integer> captured = lengths(net.accessLog());
        assertThat(captured).hasSize(30);
        net.stopServers();
        net.startNginx();

        ReplaySummary s = replay(publish(), middleware("add_header.py"), 10);

        assertThat(s.sessionsReplayed()).as(s.summaryLine()).isEqualTo(21);
        assertThat(s.messagesAnswered()).as(s.summaryLine()).isEqualTo(30);
        // The intercept relays headers only: the answers' sizes are seen, their content is not (and is counted).
        assertThat(s.problemsByReason()).as(s.summaryLine()).containsOnlyKeys(ReplayProblem.ANSWER_UNSEEN.label());
        Map<String, Integer> grown = new HashMap<>();
        captured.forEach((uri, length) -> grown.put(uri, length + ADDED));
        assertThat(lengths(net.accessLog())).as("each request as nginx read it: the header more").isEqualTo(grown);
    }

    @Test
    void aRequestTheMiddlewareLeavesOutNeverArrivesAndIsCounted(@TempDir Path dir) throws Exception {
        Path dropped = dir.resolve("dropped.txt");

        ReplaySummary s = replay(publish(), middleware("drop_tenth.py", dropped.toString()), 12);

        List<String> droppedLines = Files.readAllLines(dropped);
        assertThat(droppedLines).hasSize(3); // of 30: the 10th, 20th and 30th the program read
        // A request after the 10th and the 20th came back, so they were left out; nothing came back after the 30th,
        // which is as a hung program looks: it waited the timeout.
        assertThat(s.problemsByReason()).as(s.summaryLine())
                .containsEntry(ReplayProblem.MIDDLEWARE_DROPPED.label(), 2L)
                .containsEntry(ReplayProblem.MIDDLEWARE_TIMEOUT.label(), 1L);
        assertThat(s.messagesSent()).isEqualTo(27);
        List<String> arrived = net.accessLog();
        assertThat(arrived).hasSize(27);
        Map<String, Integer> seen = TcpNetTest.countUris(arrived);
        for (String line : droppedLines) {
            seen.merge(line.split(" ")[1], 1, Integer::sum);
        }
        Map<String, Integer> captured = new HashMap<>();
        for (int i = 1; i <= 20; i++) {
            captured.put("/short?i=" + i, 1);
        }
        for (int i = 1; i <= 10; i++) {
            captured.put("/keep?i=" + i, 1);
        }
        assertThat(seen).as("every request reached nginx or was left out, once").isEqualTo(captured);
    }

    /** The short and keep-alive captures in a new topic: 20 one-request sessions, one of 10 requests. */
    private String publish() throws Exception {
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-short.pcap", 80), 0);
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-keepalive.pcap", 80), 0);
        return topic;
    }

    /** Options running the middleware fixture {@code program} with {@code args}. */
    private static ReplayOptions middleware(String program, String... args) {
        String command = String.join(" ", "python3", FIXTURES.resolve(program).toAbsolutePath().toString(),
                String.join(" ", args)).strip();
        return ReplayOptions.defaults().withMiddleware(new MiddlewareCommand(command, Duration.ofSeconds(3), false));
    }

    private ReplaySummary replay(String topic, ReplayOptions options, int instance) {
        return run(request(topic, 80, ReplaySpeed.MAX), ReplayTuning.defaults().withDrainTimeout(Duration.ofSeconds(20)),
                options, options(instance));
    }

    /** Request length by URI from access-log lines "addr:port uri length". */
    private static Map<String, Integer> lengths(List<String> log) {
        Map<String, Integer> m = new HashMap<>();
        for (String line : log) {
            String[] f = line.split(" ");
            m.put(f[1], Integer.parseInt(f[2]));
        }
        return m;
    }
}
