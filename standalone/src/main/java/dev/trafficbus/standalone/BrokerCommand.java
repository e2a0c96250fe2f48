package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code trafficbus broker}: a single-node Kafka broker, or one node of a small cluster, for a laptop or CI, until Ctrl-C. */
@Command(name = "broker",
        header = "Run a Kafka broker in this process: a single node, or one node of a cluster (for a laptop or CI).",
        mixinStandardHelpOptions = true, version = "trafficbus broker 0.1.0",
        description = "Runs a real single-node Kafka broker (KRaft, broker + controller) in this process until "
                + "Ctrl-C or SIGTERM. Without --data-dir its data lives in a temporary directory deleted on exit. "
                + "With --sasl-users every client logs in and needs ACLs: grant them with 'trafficbus acls' and a "
                + "subscription's readers.")
public final class BrokerCommand implements Callable<Integer> {

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9092",
            description = "Address for Kafka clients (default: ${DEFAULT-VALUE}; port 0 picks a free port).")
    String listen;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Keep the broker's data here across restarts (formatted on first use).")
    Path dataDir;

    @Option(names = "--sasl-users", paramLabel = "FILE",
            description = "Require SASL/SCRAM-SHA-512 logins of the users in FILE (lines user:password; 'admin' is the "
                    + "super user) and authorize with Kafka ACLs: no ACL, no access.")
    Path saslUsers;

    @Option(names = "--node-id", paramLabel = "N", defaultValue = "1",
            description = "This node's id among --controller-voters (default: ${DEFAULT-VALUE}).")
    int nodeId;

    @Option(names = "--controller-voters", paramLabel = "ID@HOST:PORT,...",
            description = "Run as one node of a cluster of these nodes (each broker and controller; start each with its "
                    + "--node-id, the same list and its own --listen and --data-dir), e.g. "
                    + "1@127.0.0.1:19091,2@127.0.0.1:19092,3@127.0.0.1:19093. Topics get 3 replicas (all nodes of a "
                    + "smaller cluster) and take writes while one is down.")
    String controllerVoters;

    @Override
    public Integer call() throws InterruptedException {
        EmbeddedBroker broker;
        SaslUsers users = saslUsers == null ? null : SaslUsers.read(saslUsers);
        QuorumVoters voters = controllerVoters == null ? null : QuorumVoters.parse(nodeId, controllerVoters);
        if (voters != null && users != null) {
            throw new UserInputException("--sasl-users runs a single-node broker: leave out --controller-voters");
        }
        if (voters == null && nodeId != QuorumVoters.SINGLE_NODE_ID) {
            throw new UserInputException("--node-id needs --controller-voters naming the cluster's nodes");
        }
        try {
            broker = voters != null ? EmbeddedBroker.startNode(ListenAddress.parse(listen), dataDir, voters)
                    : users == null ? EmbeddedBroker.start(ListenAddress.parse(listen), dataDir)
                    : EmbeddedBroker.startSecured(ListenAddress.parse(listen), dataDir, users);
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
        System.out.println("broker ready at " + broker.bootstrapServers()
                + (voters == null ? "" : " (node " + voters.nodeId() + " of " + voters.size() + ", replication "
                        + voters.replicationFactor() + ", min.insync.replicas " + voters.minInsyncReplicas() + ")")
                + (users == null ? ""
                : " with SASL/SCRAM-SHA-512 and ACLs (users " + String.join(", ", users.passwords().keySet())
                + "; admin is the super user)") + " (data in " + broker.dataDir()
                + (broker.isTemporary() ? ", deleted on exit" : "") + ")");
        if (users != null) {
            System.out.println("clients connect with --bootstrap-servers " + broker.bootstrapServers()
                    + " --kafka-config FILE holding security.protocol=SASL_PLAINTEXT, sasl.mechanism=SCRAM-SHA-512, "
                    + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                    + "username=\"USER\" password=\"PASSWORD\"; (example: deploy/client-sasl.properties)");
        }
        System.out.flush();
        stopped.await();
        return 0;
    }
}
