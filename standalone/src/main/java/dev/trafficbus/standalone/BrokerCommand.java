package dev.trafficbus.standalone;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code trafficbus broker}: a single-node Kafka broker for a laptop or CI, until Ctrl-C. */
@Command(name = "broker", mixinStandardHelpOptions = true, version = "trafficbus broker 0.1.0",
        description = "Runs a real single-node Kafka broker (KRaft, broker + controller) in this process until "
                + "Ctrl-C or SIGTERM. Without --data-dir its data lives in a temporary directory deleted on exit.")
public final class BrokerCommand implements Callable<Integer> {

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9092",
            description = "Address for Kafka clients (default: ${DEFAULT-VALUE}; port 0 picks a free port).")
    String listen;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Keep the broker's data here across restarts (formatted on first use).")
    Path dataDir;

    @Override
    public Integer call() throws InterruptedException {
        EmbeddedBroker broker;
        try {
            broker = EmbeddedBroker.start(ListenAddress.parse(listen), dataDir);
        } catch (IllegalStateException e) {
            System.err.println("trafficbus broker: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            broker.close();
            System.out.println("broker stopped");
            System.out.flush();
            stopped.countDown();
        }, "trafficbus-broker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("broker ready at " + broker.bootstrapServers() + " (data in " + broker.dataDir()
                + (broker.isTemporary() ? ", deleted on exit" : "") + ")");
        System.out.flush();
        stopped.await();
        return 0;
    }
}
