package dev.trafficbus.replay.tcp;

import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.socket.SocketReplay;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Both engines name the same thing the same way: one capture replayed by each into a test server that is not
 * listening, and every problem either reports is a {@link ReplayProblem} label.
 */
@Timeout(120)
class ProblemNamesTest extends TcpNetTest {
    @Test
    void aRefusedConnectionIsConnectRefusedForBothEngines() throws Exception {
        net.stopServers(); // nothing listens on port 80: the test server's kernel answers every SYN with a RST
        String topic = topic();
        PcapFixture.publish(kafka.bootstrapServers(), topic, PcapFixture.read("http-short.pcap", 80), 0);
        Properties c = new Properties();
        c.put("bootstrap.servers", kafka.bootstrapServers());
        InetSocketAddress target = new InetSocketAddress(TcpTestNet.TEST_IP, 80);

        ReplaySummary socket = new SocketReplay(new ReplayRequest(topic, c, target, ReplaySpeed.MAX, "socket-" + topic,
                true, false), ReplayTuning.defaults(), ReplayOptions.defaults()).run();
        ReplaySummary tcp = new TcpReplay(new ReplayRequest(topic, c, target, ReplaySpeed.MAX, "tcp-" + topic, true,
                false), ReplayTuning.defaults(), ReplayOptions.defaults(), options(0)).run();
        System.out.println("socket: " + socket.summaryLine() + "\ntcp: " + tcp.summaryLine());

        assertThat(socket.sessionsFailed()).as(socket.summaryLine()).isEqualTo(20);
        assertThat(tcp.sessionsFailed()).as(tcp.summaryLine()).isEqualTo(20);
        assertThat(socket.problemsByReason()).containsExactlyEntriesOf(Map.of("connect-refused", 20L));
        assertThat(tcp.problemsByReason()).containsEntry("connect-refused", 20L);
        assertThat(ReplayProblem.labels()).containsAll(socket.problemsByReason().keySet())
                .containsAll(tcp.problemsByReason().keySet());
    }
}
