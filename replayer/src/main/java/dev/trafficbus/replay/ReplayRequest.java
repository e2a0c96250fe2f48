package dev.trafficbus.replay;

import dev.trafficbus.bus.ConsumerGroups;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.consumer.ConsumerConfig;

import java.net.InetSocketAddress;
import java.util.Properties;

/**
 * What to replay and where.
 *
 * @param topic          the capture or subscription topic to read
 * @param consumerConfig Kafka consumer settings, at least {@code bootstrap.servers}
 * @param target         the test server every captured session is replayed against
 * @param speed          pacing of sessions and messages
 * @param group          consumer group id; null picks {@code trafficbus-replay-<topic>}
 * @param untilEnd       stop once everything in the topic at start has been replayed (else follow it live)
 * @param showProgress   draw a progress line when stderr is a terminal
 */
public record ReplayRequest(String topic, Properties consumerConfig, InetSocketAddress target, ReplaySpeed speed,
                            String group, boolean untilEnd, boolean showProgress) {
    /** The group id actually used. */
    public String groupOrDefault() {
        return group == null || group.isBlank() ? ConsumerGroups.replayDefault(topic) : group;
    }

    /** Refuses a request any engine would fail on, naming the option that fixes it. */
    public void check() {
        if (topic == null || topic.isBlank()) {
            throw new UserInputException("no topic given; use --topic tb.capture.<source>");
        }
        if (target == null) {
            throw new UserInputException("no target given; use --target HOST:PORT");
        }
        if (target.isUnresolved()) {
            throw new UserInputException("target host '" + target.getHostString() + "' cannot be resolved");
        }
        Object servers = consumerConfig == null ? null : consumerConfig.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG);
        if (servers == null || servers.toString().isBlank()) {
            throw new UserInputException("no Kafka address given; use --bootstrap-servers HOST:PORT");
        }
        if (speed == null) {
            throw new UserInputException("no speed given; use --speed 1, 2.5 or max");
        }
    }
}
