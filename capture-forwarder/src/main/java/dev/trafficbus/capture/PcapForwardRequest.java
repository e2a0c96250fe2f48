package dev.trafficbus.capture;

import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.redact.RedactionRules;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;

/**
 * What to import. producerConfig holds at least bootstrap.servers; the forwarder adds the fixed
 * producer settings (see {@link CapturePublisher#producerSettings}).
 *
 * @param pcap         the pcap or pcapng file, gzip-compressed or not; {@code -} for standard input
 * @param servicePorts the service's TCP ports: they decide which packets count and their direction
 * @param source       the source id, naming the topic {@code tb.capture.<source>}
 * @param producerConfig Kafka client settings, at least bootstrap.servers
 * @param showProgress draw a progress line when stderr is a terminal
 * @param batchWindow  how long (capture time) a flow's record stays open for more packets; zero for none
 * @param batchMaxPackets most packets in one record; 1 for one packet per record
 * @param redaction    what is masked in payloads before publishing ({@link RedactionRules#NONE}: nothing)
 * @param topicSettings partitions, replication and configs of the capture topic if it is created (null: defaults)
 */
public record PcapForwardRequest(Path pcap, Set<Integer> servicePorts, String source,
                                 Properties producerConfig, boolean showProgress, Duration batchWindow,
                                 int batchMaxPackets, RedactionRules redaction, TopicSpec topicSettings) {

    public PcapForwardRequest {
        redaction = redaction == null ? RedactionRules.NONE : redaction;
    }

    /** A request masking the default headers ({@link RedactionRules#DEFAULT_HEADERS}). */
    public PcapForwardRequest(Path pcap, Set<Integer> servicePorts, String source, Properties producerConfig,
                              boolean showProgress, Duration batchWindow, int batchMaxPackets) {
        this(pcap, servicePorts, source, producerConfig, showProgress, batchWindow, batchMaxPackets,
                RedactionRules.DEFAULTS, null);
    }

    /** A request with the default batching (--batch-window 5ms, --batch-max-packets 64) and redaction. */
    public PcapForwardRequest(Path pcap, Set<Integer> servicePorts, String source, Properties producerConfig,
                              boolean showProgress) {
        this(pcap, servicePorts, source, producerConfig, showProgress, FlowBatcher.DEFAULT_WINDOW,
                FlowBatcher.DEFAULT_MAX_PACKETS);
    }

    /** The same request with other redaction rules. */
    public PcapForwardRequest withRedaction(RedactionRules rules) {
        return new PcapForwardRequest(pcap, servicePorts, source, producerConfig, showProgress, batchWindow,
                batchMaxPackets, rules, topicSettings);
    }

    /** The same request creating its topic with {@code settings} (its name is the source's topic). */
    public PcapForwardRequest withTopicSettings(TopicSpec settings) {
        return new PcapForwardRequest(pcap, servicePorts, source, producerConfig, showProgress, batchWindow,
                batchMaxPackets, redaction, settings);
    }

    /** The settings of {@code topic}: those given, or the defaults. */
    public TopicSpec topicSpec(String topic) {
        return topicSettings == null ? TopicSpec.of(topic, 0) : topicSettings.named(topic);
    }

    /** The default source id of a file: its name without the extension, reduced to what a topic name allows. */
    public static String sourceFromFileName(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        if (name.equals("-")) {
            return "stdin";
        }
        if (name.endsWith(".gz") && name.length() > 3) {
            name = name.substring(0, name.length() - 3);
        }
        int dot = name.lastIndexOf('.');
        if (dot > 0) {
            name = name.substring(0, dot);
        }
        name = name.replaceAll("[^a-zA-Z0-9._-]+", "-").replaceAll("^-+|-+$", "");
        if (name.length() > 200) {
            name = name.substring(0, 200);
        }
        return name.isEmpty() || name.equals(".") || name.equals("..") ? "pcap" : name;
    }
}
