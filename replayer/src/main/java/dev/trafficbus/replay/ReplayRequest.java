package dev.trafficbus.replay;

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
        return group == null || group.isBlank() ? "trafficbus-replay-" + topic : group;
    }
}
