package dev.trafficbus.standalone;

import dev.trafficbus.redact.RedactionRules;
import dev.trafficbus.replay.ReplaySpeed;
import dev.trafficbus.replay.tcp.TcpEngineOptions;
import dev.trafficbus.replay.tls.TargetTls;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Set;

/**
 * One all-in-one run.
 *
 * @param pcap         the capture to replay
 * @param servicePorts the service's TCP ports in the capture (they decide the direction of packets)
 * @param source       source id, naming the topic tb.capture.&lt;source&gt;
 * @param target       the server the sessions are replayed against
 * @param speed        replay pacing
 * @param dataDir      the broker's data dir to keep, or null for a temporary one
 * @param showProgress draw progress lines when stderr is a terminal
 * @param tcp          the tcp engine's settings, or null to replay with the socket engine
 * @param timeline     collect the per-second figures the HTML report draws (costs a little per message)
 * @param redaction    what the forwarder masks before publishing
 * @param tls          TLS toward the target (socket engine), or null for plain TCP
 */
public record StandaloneRequest(Path pcap, Set<Integer> servicePorts, String source, InetSocketAddress target,
                                ReplaySpeed speed, Path dataDir, boolean showProgress, TcpEngineOptions tcp,
                                boolean timeline, RedactionRules redaction, TargetTls tls) {
    /** A run over plain TCP. */
    public StandaloneRequest(Path pcap, Set<Integer> servicePorts, String source, InetSocketAddress target,
                             ReplaySpeed speed, Path dataDir, boolean showProgress, TcpEngineOptions tcp,
                             boolean timeline, RedactionRules redaction) {
        this(pcap, servicePorts, source, target, speed, dataDir, showProgress, tcp, timeline, redaction, null);
    }

    /** A run that masks the default headers. */
    public StandaloneRequest(Path pcap, Set<Integer> servicePorts, String source, InetSocketAddress target,
                             ReplaySpeed speed, Path dataDir, boolean showProgress, TcpEngineOptions tcp,
                             boolean timeline) {
        this(pcap, servicePorts, source, target, speed, dataDir, showProgress, tcp, timeline, RedactionRules.DEFAULTS);
    }

    /** A run with the socket engine, no timeline and the default redaction. */
    public StandaloneRequest(Path pcap, Set<Integer> servicePorts, String source, InetSocketAddress target,
                             ReplaySpeed speed, Path dataDir, boolean showProgress) {
        this(pcap, servicePorts, source, target, speed, dataDir, showProgress, null, false);
    }
}
