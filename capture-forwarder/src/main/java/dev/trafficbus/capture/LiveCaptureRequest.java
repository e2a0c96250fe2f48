package dev.trafficbus.capture;

import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.redact.RedactionRules;

import java.time.Duration;
import java.util.Properties;
import java.util.Set;

/**
 * What to capture live and where to publish it.
 *
 * @param interfaceName   network interface to capture on (libpcap name, e.g. eth0 or any)
 * @param servicePorts    the service's TCP ports: they make the filter and decide direction
 * @param source          the source id, naming the topic {@code tb.capture.<source>}
 * @param clientConfig    Kafka client settings, at least bootstrap.servers
 * @param userFilter      BPF expression ANDed with the generated one, or null
 * @param requestsOnly    capture only packets towards the service ports
 * @param snaplen         bytes kept of each frame
 * @param bufferBytes     libpcap's kernel buffer
 * @param promiscuous     put the interface in promiscuous mode
 * @param maxPendingBytes records captured and not yet acknowledged, in key plus value bytes, before drops
 * @param flushTimeout    how long a stop waits for pending records to be published
 * @param statusInterval  period of the status log line; zero for none
 * @param metricsPort     port of the Prometheus endpoint; -1 for none, 0 for any free port
 * @param batchWindow     how long (wall time) a flow's record stays open for more packets; zero for none
 * @param batchMaxPackets most packets in one record; 1 for one packet per record
 * @param redaction       what is masked in payloads before publishing ({@link RedactionRules#NONE}: nothing)
 * @param cpuBudget       the share of one core the process may use before new sessions are shed (0.05 = 5%); 0: no budget
 * @param topicSettings   partitions, replication and configs of the capture topic if it is created (null: defaults)
 */
public record LiveCaptureRequest(String interfaceName, Set<Integer> servicePorts, String source,
                                 Properties clientConfig, String userFilter, boolean requestsOnly, int snaplen,
                                 int bufferBytes, boolean promiscuous, long maxPendingBytes, Duration flushTimeout,
                                 Duration statusInterval, int metricsPort, Duration batchWindow,
                                 int batchMaxPackets, RedactionRules redaction, double cpuBudget,
                                 TopicSpec topicSettings) {
    /** Default of --snaplen: whole frames of any usual MTU. */
    public static final int DEFAULT_SNAPLEN = 65535;
    /** Default of --buffer-size (see {@link ForwardCommand}'s option for why this size). */
    public static final int DEFAULT_BUFFER_BYTES = 16 << 20;
    /** Default of --max-pending. */
    public static final long DEFAULT_MAX_PENDING_BYTES = 256L << 20;

    public LiveCaptureRequest {
        redaction = redaction == null ? RedactionRules.NONE : redaction;
    }

    /** A request with the defaults for everything but the essentials; no metrics endpoint. */
    public static LiveCaptureRequest of(String interfaceName, Set<Integer> servicePorts, String source,
                                        Properties clientConfig) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, null, false, DEFAULT_SNAPLEN,
                DEFAULT_BUFFER_BYTES, false, DEFAULT_MAX_PENDING_BYTES, Duration.ofSeconds(10), Duration.ofSeconds(10), -1,
                FlowBatcher.DEFAULT_WINDOW, FlowBatcher.DEFAULT_MAX_PACKETS, RedactionRules.DEFAULTS, 0, null);
    }

    /** The same request creating its topic with {@code settings} (its name is the source's topic). */
    public LiveCaptureRequest withTopicSettings(TopicSpec settings) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, userFilter, requestsOnly, snaplen,
                bufferBytes, promiscuous, maxPendingBytes, flushTimeout, statusInterval, metricsPort, batchWindow,
                batchMaxPackets, redaction, cpuBudget, settings);
    }

    /** The settings of {@code topic}: those given, or the defaults. */
    public TopicSpec topicSpec(String topic) {
        return topicSettings == null ? TopicSpec.of(topic, 0) : topicSettings.named(topic);
    }

    /** The same request with another user filter. */
    public LiveCaptureRequest withFilter(String filter) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, filter, requestsOnly, snaplen,
                bufferBytes, promiscuous, maxPendingBytes, flushTimeout, statusInterval, metricsPort, batchWindow,
                batchMaxPackets, redaction, cpuBudget, topicSettings);
    }

    /** The same request with another pending bound. */
    public LiveCaptureRequest withMaxPending(long bytes) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, userFilter, requestsOnly, snaplen,
                bufferBytes, promiscuous, bytes, flushTimeout, statusInterval, metricsPort, batchWindow, batchMaxPackets,
                redaction, cpuBudget, topicSettings);
    }

    /** The same request with another metrics port (-1 none, 0 any free port). */
    public LiveCaptureRequest withMetricsPort(int port) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, userFilter, requestsOnly, snaplen,
                bufferBytes, promiscuous, maxPendingBytes, flushTimeout, statusInterval, port, batchWindow, batchMaxPackets,
                redaction, cpuBudget, topicSettings);
    }

    /** The same request with other batching: window (zero for none) and most packets per record. */
    public LiveCaptureRequest withBatching(Duration window, int maxPackets) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, userFilter, requestsOnly, snaplen,
                bufferBytes, promiscuous, maxPendingBytes, flushTimeout, statusInterval, metricsPort, window, maxPackets,
                redaction, cpuBudget, topicSettings);
    }

    /** The same request with other redaction rules. */
    public LiveCaptureRequest withRedaction(RedactionRules rules) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, userFilter, requestsOnly, snaplen,
                bufferBytes, promiscuous, maxPendingBytes, flushTimeout, statusInterval, metricsPort, batchWindow,
                batchMaxPackets, rules, cpuBudget, topicSettings);
    }

    /** The same request with another CPU budget (a share of one core; 0 for none). */
    public LiveCaptureRequest withCpuBudget(double budget) {
        return new LiveCaptureRequest(interfaceName, servicePorts, source, clientConfig, userFilter, requestsOnly, snaplen,
                bufferBytes, promiscuous, maxPendingBytes, flushTimeout, statusInterval, metricsPort, batchWindow,
                batchMaxPackets, redaction, budget, topicSettings);
    }
}
