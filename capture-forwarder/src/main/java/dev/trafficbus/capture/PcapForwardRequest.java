package dev.trafficbus.capture;

import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;

/**
 * What to import. producerConfig holds at least bootstrap.servers; the forwarder adds the fixed
 * producer settings (see {@link CapturePublisher#producerSettings}).
 *
 * @param pcap         the pcap or pcapng file
 * @param servicePorts the service's TCP ports: they decide which packets count and their direction
 * @param source       the source id, naming the topic {@code tb.capture.<source>}
 * @param producerConfig Kafka client settings, at least bootstrap.servers
 * @param showProgress draw a progress line when stderr is a terminal
 */
public record PcapForwardRequest(Path pcap, Set<Integer> servicePorts, String source,
                                 Properties producerConfig, boolean showProgress) {
}
