package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A real single-node KRaft Kafka broker (combined broker + controller) running in this JVM, for a laptop,
 * CI or a demo. Its storage is formatted on first use; a data dir formatted before is reused as is.
 */
public final class EmbeddedBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBroker.class);
    /** How long startup may take before we give up with a clear error. */
    public static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaRaftServer server;
    private final ListenAddress listen;
    private final Path dataDir;
    private final boolean temporary;
    /** Settings of the broker's own admin client (set-up and readiness), on a listener clients do not use. */
    private final Properties setupClient;
    private boolean closed;

    private EmbeddedBroker(KafkaRaftServer server, ListenAddress listen, Path dataDir, boolean temporary,
                           Properties setupClient) {
        this.server = server;
        this.listen = listen;
        this.dataDir = dataDir;
        this.temporary = temporary;
        this.setupClient = setupClient;
    }

    /**
     * Starts a broker listening on {@code listen} (port 0 picks a free port) and waits until it answers.
     * {@code dataDir} null means a temporary directory that {@link #close()} deletes.
     */
    public static EmbeddedBroker start(ListenAddress listen, Path dataDir) {
        return start(listen, dataDir, new Properties());
    }

    /**
     * Like {@link #start(ListenAddress, Path)} with extra server properties, e.g. a SASL or SSL listener beside the
     * PLAINTEXT one: entries of {@code listeners}, {@code advertised.listeners} and
     * {@code listener.security.protocol.map} are added to the built-in ones, any other property replaces the default.
     */
    public static EmbeddedBroker start(ListenAddress listen, Path dataDir, Properties extra) {
        return launch(listen, dataDir, null, (bound, dir) -> {
            Properties props = serverProperties(bound, dir, freePort("127.0.0.1"));
            addExtra(props, extra);
            return props;
        });
    }

    /**
     * Starts a broker whose clients must log in with SASL/SCRAM-SHA-512 as one of {@code users} and are authorized by
     * Kafka's standard authorizer: no ACL, no access; {@value SaslUsers#ADMIN} is the super user. The users' SCRAM
     * credentials are written at every start, so a reused data dir follows the file (users no longer in it are removed).
     */
    public static EmbeddedBroker startSecured(ListenAddress listen, Path dataDir, SaslUsers users) {
        EmbeddedBroker broker = launch(listen, dataDir, users, (bound, dir) -> {
            int controllerPort = freePort("127.0.0.1");
            return BrokerSecurity.serverProperties(serverProperties(bound, dir, controllerPort), bound,
                    advertisedHost(bound.host()), controllerPort, freePort("127.0.0.1"));
        });
        try {
            BrokerSecurity.syncUsers(broker.setupClient, users);
            return broker;
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    /**
     * Starts node {@code voters.nodeId()} of a cluster of {@code voters.size()} nodes, each broker and controller (the
     * controllers a static quorum), and waits until the cluster answers: that needs a majority of the nodes up. Topics
     * are replicated to three nodes (or all of a smaller cluster) and take writes while one replica is down.
     */
    public static EmbeddedBroker startNode(ListenAddress listen, Path dataDir, QuorumVoters voters) {
        return launch(listen, dataDir, null, (bound, dir) -> clusterProperties(bound, dir, voters));
    }

    private static EmbeddedBroker launch(ListenAddress listen, Path dataDir, SaslUsers users,
                                         java.util.function.BiFunction<ListenAddress, Path, Properties> config) {
        // A port found free is only bound when the broker starts; another process may take it in between (seen on
        // busy machines), so a start that fails to bind is tried again on newly chosen ports.
        for (int attempt = 1; ; attempt++) {
            try {
                return launchOnce(listen, dataDir, users, config);
            } catch (PortTaken e) {
                if (attempt == BIND_ATTEMPTS) {
                    throw translate(e.failure, e.bound, e.dir);
                }
                LOG.debug("embedded broker: a port was taken before the broker bound it, trying again: {}",
                        e.failure.toString());
            }
        }
    }

    private static final int BIND_ATTEMPTS = 3;

    /** A start that failed because a chosen port was bound by someone else first. */
    private static final class PortTaken extends RuntimeException {
        final Throwable failure;
        final ListenAddress bound;
        final Path dir;

        PortTaken(Throwable cause, ListenAddress bound, Path dir) {
            super(cause);
            this.failure = cause;
            this.bound = bound;
            this.dir = dir;
        }
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException) {
                return true;
            }
        }
        return false;
    }

    private static EmbeddedBroker launchOnce(ListenAddress listen, Path dataDir, SaslUsers users,
                                             java.util.function.BiFunction<ListenAddress, Path, Properties> config) {
        ListenAddress bound = listen.port() == 0 ? new ListenAddress(listen.host(), freePort(listen.host()))
                : requireFree(listen);
        boolean temporary = dataDir == null;
        Path dir = temporary ? createTempDir() : prepareDataDir(dataDir);
        KafkaRaftServer server = null;
        try {
            Properties props = config.apply(bound, dir);
            Object clusterId = props.remove(CLUSTER_ID);
            if (!Files.exists(dir.resolve("meta.properties"))) {
                format(props, dir, clusterId == null ? Uuid.randomUuid().toString() : clusterId.toString());
            }
            server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
            Properties setup = new Properties();
            if (users == null) {
                setup.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, advertisedHost(bound.host()) + ":" + bound.port());
            } else {
                setup.putAll(BrokerSecurity.setupClient(props));
            }
            EmbeddedBroker broker = new EmbeddedBroker(server, bound, dir, temporary, setup);
            broker.awaitReady();
            return broker;
        } catch (RuntimeException | Error e) {
            if (server != null) {
                stopQuietly(server);
            }
            if (temporary) {
                deleteRecursively(dir);
            }
            if (isBindFailure(e)) {
                throw new PortTaken(e, bound, dir);
            }
            throw translate(e, bound, dir);
        }
    }

    /** host:port for clients' bootstrap.servers. */
    public String bootstrapServers() {
        return advertisedHost(listen.host()) + ":" + listen.port();
    }

    /** Where the broker keeps its logs. */
    public Path dataDir() {
        return dataDir;
    }

    /** Whether the data dir is deleted on close. */
    public boolean isTemporary() {
        return temporary;
    }

    /** Stops the broker (waits for a clean shutdown) and deletes a temporary data dir. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopQuietly(server);
        if (temporary) {
            deleteRecursively(dataDir);
        }
    }

    private void awaitReady() {
        Properties p = new Properties();
        p.putAll(setupClient);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                try {
                    Collection<Node> nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                    if (!nodes.isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    LOG.debug("broker not ready yet: {}", e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the broker to start", e);
                }
                sleep(200);
            }
        }
        throw new IllegalStateException("the embedded broker did not answer within " + READY_TIMEOUT.toSeconds()
                + " s at " + setupClient.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
    }

    static Properties serverProperties(ListenAddress listen, Path dir, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(QuorumVoters.SINGLE_NODE_ID));
        // Static voters (not a dynamic quorum) so a reused data dir starts with whatever controller port is free now.
        p.put("controller.quorum.voters", QuorumVoters.SINGLE_NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listeners", "PLAINTEXT://" + listen + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + advertisedHost(listen.host()) + ":" + listen.port());
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.toString());
        p.put("num.partitions", "6");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        // A single node cannot hold more replicas; without these internal topics never come up and consumers see nothing.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "6");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "6");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // Record time is capture time, so an imported pcap older than the default 7-day retention would be
        // deleted within minutes; a laptop/CI broker keeps everything until its data dir is removed.
        p.put("log.retention.ms", "-1");
        return p;
    }

    /** A node of a cluster: the single-node settings with the cluster's node id, quorum and replication. */
    static Properties clusterProperties(ListenAddress listen, Path dir, QuorumVoters voters) {
        ListenAddress controller = voters.controller();
        Properties p = serverProperties(listen, dir, controller.port());
        p.put("node.id", String.valueOf(voters.nodeId()));
        p.put("controller.quorum.voters", voters.config());
        p.put("listeners", "PLAINTEXT://" + listen + ",CONTROLLER://" + controller);
        String replicas = Integer.toString(voters.replicationFactor());
        String inSync = Integer.toString(voters.minInsyncReplicas());
        p.put("default.replication.factor", replicas);
        p.put("min.insync.replicas", inSync);
        p.put("offsets.topic.replication.factor", replicas);
        p.put("transaction.state.log.replication.factor", replicas);
        p.put("transaction.state.log.min.isr", inSync);
        p.put("share.coordinator.state.topic.replication.factor", replicas);
        p.put("share.coordinator.state.topic.min.isr", inSync);
        p.put(CLUSTER_ID, voters.clusterId().toString());
        return p;
    }

    /** Not a Kafka setting: the id a new cluster's storage is formatted with (a random one without it). */
    private static final String CLUSTER_ID = "trafficbus.cluster.id";

    private static void addExtra(Properties props, Properties extra) {
        for (String key : extra.stringPropertyNames()) {
            String value = extra.getProperty(key);
            boolean listJoined = key.equals("listeners") || key.equals("advertised.listeners")
                    || key.equals("listener.security.protocol.map");
            props.put(key, listJoined && props.containsKey(key) ? props.getProperty(key) + "," + value : value);
        }
    }

    private static void format(Properties props, Path dir, String clusterId) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Path config = null;
        try {
            config = Files.createTempFile("trafficbus-format-", ".properties");
            try (OutputStream out = Files.newOutputStream(config)) {
                props.store(out, "used once to format this directory");
            }
            int rc;
            try (PrintStream ps = new PrintStream(output, true, StandardCharsets.UTF_8)) {
                rc = StorageTool.execute(new String[] {"format", "-t", clusterId,
                        "-c", config.toString()}, ps);
            }
            if (rc != 0) {
                throw new IllegalStateException("formatting " + dir + " failed: "
                        + output.toString(StandardCharsets.UTF_8).trim());
            }
        } catch (IOException e) {
            throw new UserInputException("cannot write to data dir " + dir + ": " + e.getMessage(), e);
        } finally {
            if (config != null) {
                try {
                    Files.deleteIfExists(config);
                } catch (IOException e) {
                    LOG.debug("could not delete {}: {}", config, e.toString());
                }
            }
        }
    }

    private static ListenAddress requireFree(ListenAddress listen) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(listen.host()), listen.port()));
        } catch (IOException e) {
            throw new UserInputException(listen + " is in use; pass --listen " + listen.host() + ":PORT");
        }
        return listen;
    }

    private static int freePort(String host) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UserInputException("cannot listen on " + host + ": " + e.getMessage(), e);
        }
    }

    private static String advertisedHost(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.isEmpty() ? "127.0.0.1" : host;
    }

    private static Path createTempDir() {
        try {
            return Files.createTempDirectory("trafficbus-broker-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary data dir", e);
        }
    }

    private static Path prepareDataDir(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new UserInputException(dir + " is not a directory");
        }
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new UserInputException("cannot create data dir " + dir + ": " + e.getMessage(), e);
        }
        if (!Files.isWritable(abs)) {
            throw new UserInputException("data dir " + dir + " is not writable");
        }
        return abs;
    }

    private static RuntimeException translate(Throwable e, ListenAddress listen, Path dir) {
        if (e instanceof UserInputException u) {
            return u;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String msg = String.valueOf(t.getMessage());
            if (msg.contains("Failed to acquire lock") || msg.contains("lock on file")) {
                return new UserInputException("data dir " + dir + " is used by another running broker", e);
            }
            if (msg.contains("Address already in use") || msg.contains("Socket server failed to bind")) {
                return new UserInputException(listen + " is in use; pass --listen " + listen.host() + ":PORT", e);
            }
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException("the embedded broker failed: " + e, e);
    }

    private static void stopQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("broker shutdown: {}", e.toString());
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.debug("could not delete {}: {}", p, e.toString());
                }
            });
        } catch (IOException e) {
            LOG.warn("could not delete temporary data dir {}: {}", dir, e.toString());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the broker to start", e);
        }
    }
}
