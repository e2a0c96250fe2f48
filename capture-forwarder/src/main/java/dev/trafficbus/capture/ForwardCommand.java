package dev.trafficbus.capture;

import dev.trafficbus.cli.CommandRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code trafficbus forward}: imports a pcap file into the source's capture topic. */
@Command(name = "forward", mixinStandardHelpOptions = true, versionProvider = ForwardCommand.Version.class,
        sortOptions = false,
        description = {
            "Publishes the TCP packets of a pcap file to the Kafka topic tb.capture.<source>, one record per packet, keyed by connection.",
            "The service port(s) decide direction: a packet to a service port is client-to-server, one from it server-to-client;"
                + " TCP packets of other ports, non-TCP packets and IP fragments are counted and skipped.",
            "Exit codes: 0 done, 1 some packets could not be published, 2 bad input (also a file cut short: what was complete is published)."
        })
public final class ForwardCommand implements Callable<Integer> {
    /** Exit code when some records could not be published. */
    public static final int EXIT_PUBLISH_ERRORS = 1;
    /** How long a stop signal waits for what was read to be published and the counters printed. */
    private static final int STOP_GRACE_SECONDS = 30;

    @Spec
    private CommandSpec spec;

    @Option(names = "--pcap", required = true, paramLabel = "FILE",
            description = "pcap or pcapng file to import (e.g. written by tcpdump -w).")
    private Path pcap;

    @Option(names = "--port", required = true, split = ",", paramLabel = "PORT",
            description = "Service TCP port(s), comma-separated, e.g. 80,8080.")
    private List<Integer> ports;

    @Option(names = "--source", paramLabel = "ID",
            description = "Source id; records go to tb.capture.<ID> (default: the file name without extension).")
    private String source;

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Kafka brokers to connect to.")
    private String bootstrapServers;

    @Option(names = "--producer-property", paramLabel = "KEY=VALUE",
            description = "Extra Kafka producer setting (repeatable), e.g. security.protocol=SSL or batch.size=65536.")
    private Map<String, String> producerProperties = new LinkedHashMap<>();

    @Override
    public Integer call() {
        Properties config = new Properties();
        config.putAll(producerProperties);
        config.put("bootstrap.servers", bootstrapServers);
        String id = source != null ? source : PcapForwardRequest.sourceFromFileName(pcap);
        PcapForwardRequest request = new PcapForwardRequest(pcap, new LinkedHashSet<>(ports), id, config, true);
        // Ctrl-C/SIGTERM: stop reading, publish and flush what was read, print the counters, then let the JVM go.
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.set(true);
            try {
                reported.await(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trafficbus-forward-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return report(PcapForwarder.forward(request, stop::get));
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is running and now returns.
            }
        }
    }

    private int report(ForwardSummary summary) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println(summary.summaryLine());
        out.flush();
        if (summary.publishErrors() > 0) {
            err.println("trafficbus forward: " + summary.publishErrors()
                    + " packets could not be published to " + summary.topic() + " (see the warning above)");
            return EXIT_PUBLISH_ERRORS;
        }
        if (summary.fileTruncated()) {
            err.println("trafficbus forward: file " + pcap + " is truncated after " + summary.packetsRead()
                    + " packets; published what was complete");
            return CommandRunner.EXIT_USER_ERROR;
        }
        return 0;
    }


    /** The version from the jar manifest. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ForwardCommand.class.getPackage().getImplementationVersion();
            return new String[] {"trafficbus forward " + (v != null ? v : "(development build)")};
        }
    }
}
