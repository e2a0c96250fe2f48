package dev.trafficbus.standalone;

import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.RunReportWriter;
import dev.trafficbus.replay.report.RunTimeline;
import dev.trafficbus.replay.socket.SocketReplay;
import dev.trafficbus.replay.tcp.TcpReplay;
import org.apache.kafka.clients.CommonClientConfigs;

import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;

/** The whole bus in one process: embedded broker, pcap import into the capture topic, replay of the topic. */
public final class StandaloneRun {
    /** Consumer group of the replay; with a kept --data-dir a later run replays only what it forwarded itself. */
    public static final String GROUP = "trafficbus-standalone";

    private final StandaloneRequest request;
    private volatile Runnable stopReplay;
    private volatile boolean stopped;

    public StandaloneRun(StandaloneRequest request) {
        this.request = request;
    }

    /** Runs to the end of the capture (or until {@link #stop()}) and stops the broker before returning. */
    public StandaloneResult run() {
        long start = System.nanoTime();
        try (EmbeddedBroker broker = EmbeddedBroker.start(new ListenAddress("127.0.0.1", 0), request.dataDir())) {
            double brokerSeconds = seconds(start);
            Properties clients = new Properties();
            clients.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());

            ForwardSummary forwarded = PcapForwarder.forward(new PcapForwardRequest(request.pcap(),
                    request.servicePorts(), request.source(), clients, request.showProgress())
                    .withRedaction(request.redaction()), () -> stopped);

            ReplayRequest replayRequest = new ReplayRequest(forwarded.topic(), clients, request.target(),
                    request.speed(), GROUP, true, request.showProgress());
            ReplayOptions options = ReplayOptions.defaults()
                    .withTimeline(request.timeline() ? new RunTimeline() : null).withTls(request.tls());
            Map<String, Object> ledger;
            ReplaySummary replayed;
            if (request.tcp() != null && request.tcp().tcpEngine()) {
                try (TcpReplay tcpReplay = new TcpReplay(replayRequest, ReplayTuning.defaults(), options, request.tcp())) {
                    replayed = runStoppable(tcpReplay::stop, tcpReplay::run);
                    ledger = tcpReplay.ledger();
                }
            } else {
                try (SocketReplay socketReplay = new SocketReplay(replayRequest, ReplayTuning.defaults(), options)) {
                    replayed = runStoppable(socketReplay::stop, socketReplay::run);
                    ledger = socketReplay.ledger();
                }
            }
            broker.close();
            Map<String, Object> report = RunReportWriter.document("standalone-" + request.source(), replayRequest,
                    options, replayed, ledger, options.timeline());
            return new StandaloneResult(request, forwarded, replayed, brokerSeconds, seconds(start), report);
        }
    }

    private ReplaySummary runStoppable(Runnable stop, Supplier<ReplaySummary> run) {
        stopReplay = stop;
        try {
            if (stopped) {
                stop.run();
            }
            return run.get();
        } finally {
            stopReplay = null;
        }
    }

    /** Asks a running replay to finish gracefully (from a shutdown hook or another thread). */
    public void stop() {
        stopped = true;
        Runnable current = stopReplay;
        if (current != null) {
            current.run();
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
