package dev.trafficbus.standalone;

import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.capture.PcapForwardRequest;
import dev.trafficbus.capture.PcapForwarder;
import dev.trafficbus.replay.ReplayRequest;
import dev.trafficbus.replay.ReplaySummary;
import dev.trafficbus.replay.SocketReplay;
import org.apache.kafka.clients.CommonClientConfigs;

import java.util.Properties;

/** The whole bus in one process: embedded broker, pcap import into the capture topic, socket replay of the topic. */
public final class StandaloneRun {
    /** Consumer group of the replay; with a kept --data-dir a later run replays only what it forwarded itself. */
    public static final String GROUP = "trafficbus-standalone";

    private final StandaloneRequest request;
    private volatile SocketReplay replay;
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
                    request.servicePorts(), request.source(), clients, request.showProgress()), () -> stopped);

            ReplayRequest replayRequest = new ReplayRequest(forwarded.topic(), clients, request.target(),
                    request.speed(), GROUP, true, request.showProgress());
            ReplaySummary replayed;
            try (SocketReplay socketReplay = new SocketReplay(replayRequest)) {
                replay = socketReplay;
                if (stopped) {
                    socketReplay.stop();
                }
                replayed = socketReplay.run();
            } finally {
                replay = null;
            }
            broker.close();
            return new StandaloneResult(request, forwarded, replayed, brokerSeconds, seconds(start));
        }
    }

    /** Asks a running replay to finish gracefully (from a shutdown hook or another thread). */
    public void stop() {
        stopped = true;
        SocketReplay current = replay;
        if (current != null) {
            current.stop();
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
