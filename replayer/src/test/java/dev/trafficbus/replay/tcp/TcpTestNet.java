package dev.trafficbus.replay.tcp;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Three "hosts" for the tcp-engine tests: this JVM's namespace is the replayer; namespace {@code tbt-test}
 * runs the real test servers (nginx, redis-server) and routes the fake client range via namespace
 * {@code tbt-assist}, which has ip_forward=0 and runs the real intercept. Links (veth pairs):
 * replayer tbt-a0 10.201.1.1 ↔ test tbt-a1 10.201.1.2; test tbt-b1 10.201.2.2 ↔ assist tbt-b2 10.201.2.3;
 * replayer tbt-c0 10.201.3.1 ↔ assist tbt-c2 10.201.3.3 (the intercept channel).
 * Everything started is stopped by PID and the namespaces are removed in {@link #close()}.
 */
final class TcpTestNet implements AutoCloseable {
    static final String TEST_NS = "tbt-test";
    static final String ASSIST_NS = "tbt-assist";
    static final String TEST_IP = "10.201.1.2";
    static final String INTERCEPT_IP = "10.201.3.3";
    static final int INTERCEPT_PORT = 36524;
    static final String CLIENT_RANGE = "10.99.0.0/16";
    static final String REPLAYER_LINK = "tbt-a0";
    private static final String ANSWERS_FILTER = "tcp and (src port 80 or src port 6379)";

    // The namespaces and links have fixed names: a second run on the same machine would tear down the first's.
    private static final Path LOCK = Paths.get(System.getProperty("java.io.tmpdir"), "tbt-net.lock");
    private static final long LOCK_WAIT_NANOS = 90_000_000_000L;

    final Path dir;
    final Path token;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private Process nginx;
    private Process redis;
    private Process intercept;
    private Process tlsIntercept;
    private final List<Process> extraIntercepts = new ArrayList<>();
    private final List<Process> servers = new ArrayList<>();

    TcpTestNet() throws Exception {
        lockChannel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = waitForLock(lockChannel);
        dir = Files.createTempDirectory("tbt-net");
        token = dir.resolve("token");
        Files.writeString(token, "s3cret-token\n");
        close(false);
        sh("ip netns add " + TEST_NS);
        sh("ip netns add " + ASSIST_NS);
        sh("ip link add tbt-a0 type veth peer name tbt-a1");
        sh("ip link add tbt-b1 type veth peer name tbt-b2");
        sh("ip link add tbt-c0 type veth peer name tbt-c2");
        sh("ip link set tbt-a1 netns " + TEST_NS);
        sh("ip link set tbt-b1 netns " + TEST_NS);
        sh("ip link set tbt-b2 netns " + ASSIST_NS);
        sh("ip link set tbt-c2 netns " + ASSIST_NS);
        sh("ip addr add 10.201.1.1/24 dev tbt-a0");
        sh("ip addr add 10.201.3.1/24 dev tbt-c0");
        sh("ip -n " + TEST_NS + " addr add 10.201.1.2/24 dev tbt-a1");
        sh("ip -n " + TEST_NS + " addr add 10.201.2.2/24 dev tbt-b1");
        sh("ip -n " + ASSIST_NS + " addr add 10.201.2.3/24 dev tbt-b2");
        sh("ip -n " + ASSIST_NS + " addr add 10.201.3.3/24 dev tbt-c2");
        for (String l : List.of("tbt-a0", "tbt-c0")) {
            sh("sysctl -qw net.ipv6.conf." + l + ".disable_ipv6=1");
            sh("ip link set " + l + " up");
        }
        for (String[] nl : new String[][] {{TEST_NS, "tbt-a1"}, {TEST_NS, "tbt-b1"}, {ASSIST_NS, "tbt-b2"}, {ASSIST_NS, "tbt-c2"}}) {
            sh("ip netns exec " + nl[0] + " sysctl -qw net.ipv6.conf." + nl[1] + ".disable_ipv6=1");
            sh("ip -n " + nl[0] + " link set " + nl[1] + " up");
            sh("ip netns exec " + nl[0] + " ethtool -K " + nl[1] + " tso off gso off gro off");
        }
        sh("ip -n " + TEST_NS + " link set lo up");
        sh("ip -n " + ASSIST_NS + " link set lo up");
        sh("ip -n " + TEST_NS + " route add " + CLIENT_RANGE + " via 10.201.2.3");
        sh("ip netns exec " + ASSIST_NS + " sysctl -qw net.ipv4.ip_forward=0");
    }

    private static FileLock waitForLock(FileChannel channel) throws Exception {
        long deadline = System.nanoTime() + LOCK_WAIT_NANOS;
        while (true) {
            FileLock l = channel.tryLock();
            if (l != null) {
                return l;
            }
            if (System.nanoTime() - deadline >= 0) {
                channel.close();
                throw new IllegalStateException("another run of the tcp-engine tests still holds " + LOCK
                        + " (namespaces " + TEST_NS + ", " + ASSIST_NS + ") after 90 s");
            }
            Thread.sleep(200);
        }
    }

    static final String TEST_IP6 = "fd01:201:1::2";
    static final String CLIENT_RANGE6 = "fd99::/64";

    /** Gives the replayer↔test and test↔assist links IPv6 addresses and routes the IPv6 client range via assist. */
    void enableIpv6() throws Exception {
        setIpv6(true);
        sh("ip addr add fd01:201:1::1/64 dev tbt-a0 nodad");
        sh("ip -n " + TEST_NS + " addr add " + TEST_IP6 + "/64 dev tbt-a1 nodad");
        sh("ip -n " + TEST_NS + " addr add fd01:201:2::2/64 dev tbt-b1 nodad");
        sh("ip -n " + ASSIST_NS + " addr add fd01:201:2::3/64 dev tbt-b2 nodad");
        sh("ip -n " + TEST_NS + " -6 route add " + CLIENT_RANGE6 + " via fd01:201:2::3");
        sh("ip netns exec " + ASSIST_NS + " sysctl -qw net.ipv6.conf.all.forwarding=0");
    }

    /** Back to IPv4 only (the addresses and route go with it). */
    void disableIpv6() throws Exception {
        setIpv6(false);
    }

    private void setIpv6(boolean on) throws Exception {
        String v = on ? "0" : "1";
        sh("sysctl -qw net.ipv6.conf.tbt-a0.disable_ipv6=" + v);
        sh("ip netns exec " + TEST_NS + " sysctl -qw net.ipv6.conf.tbt-a1.disable_ipv6=" + v);
        sh("ip netns exec " + TEST_NS + " sysctl -qw net.ipv6.conf.tbt-b1.disable_ipv6=" + v);
        sh("ip netns exec " + ASSIST_NS + " sysctl -qw net.ipv6.conf.tbt-b2.disable_ipv6=" + v);
    }

    /** Sets the MTU of the replayer↔test link (both ends). */
    void setReplayerMtu(int mtu) throws Exception {
        sh("ip link set tbt-a0 mtu " + mtu);
        sh("ip -n " + TEST_NS + " link set tbt-a1 mtu " + mtu);
    }

    /** Starts nginx in the test namespace with a fresh access log. */
    void startNginx() throws Exception {
        Path n = dir.resolve("nginx");
        Files.createDirectories(n.resolve("logs"));
        Files.deleteIfExists(n.resolve("logs/access.log"));
        Files.copy(Paths.get(resource("nginx.conf")), n.resolve("nginx.conf"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        nginx = new ProcessBuilder("ip", "netns", "exec", TEST_NS, "nginx", "-p", n.toString(), "-c",
                n.resolve("nginx.conf").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile()).start();
        waitForPort(TEST_IP, 80);
    }

    /** The access log lines so far ("addr:port uri"). */
    List<String> accessLog() throws IOException {
        Path log = dir.resolve("nginx/logs/access.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /** Starts a fresh redis-server (no persistence) in the test namespace. */
    void startRedis() throws Exception {
        redis = new ProcessBuilder("ip", "netns", "exec", TEST_NS, "redis-server", "--bind", TEST_IP, "--port", "6379",
                "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        waitForPort(TEST_IP, 6379);
    }

    /** Runs redis-cli in the test namespace and returns its output. */
    String redisCli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", TEST_NS, "redis-cli", "-h", TEST_IP));
        cmd.addAll(List.of(args));
        return run(cmd).trim();
    }

    /** True when intercept is on the test classpath or the intercept module has been built (classes on disk). */
    static boolean interceptBuilt() {
        return interceptOnClasspath()
                || interceptClasses().resolve("dev/trafficbus/intercept/InterceptMain.class").toFile().isFile();
    }

    private static boolean interceptOnClasspath() {
        return TcpTestNet.class.getClassLoader().getResource("dev/trafficbus/intercept/InterceptMain.class") != null;
    }

    private static Path interceptClasses() {
        Path p = Paths.get("").toAbsolutePath();
        // Tests run in replayer/; the intercept module is its sibling.
        return p.getParent().resolve("intercept/target/classes");
    }

    /** Starts the real intercept in the assist namespace, capturing the test server's answers. */
    void startIntercept() throws Exception {
        intercept = startIntercept(INTERCEPT_PORT, ANSWERS_FILTER);
    }

    /** Starts one more intercept in the assist namespace on {@code port}, relaying only what {@code filter} captures. */
    void startExtraIntercept(int port, String filter) throws Exception {
        extraIntercepts.add(startIntercept(port, filter));
    }

    /** Starts one more intercept on {@code port} that relays the answers' payload too ({@code --with-payload}). */
    void startPayloadIntercept(int port) throws Exception {
        extraIntercepts.add(startIntercept(port, ANSWERS_FILTER, "--with-payload"));
    }

    /** Starts one more intercept on {@code port} relaying the payload of the answers {@code filter} captures. */
    void startPayloadIntercept(int port, String filter) throws Exception {
        extraIntercepts.add(startIntercept(port, filter, "--with-payload"));
    }

    /**
     * Starts {@code command} in the test namespace (its output in {@code name}.out of the net's directory) and waits
     * until it listens on {@link #TEST_IP}:{@code port}; stopped with nginx and redis.
     */
    void startServer(String name, int port, List<String> command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", TEST_NS));
        cmd.addAll(command);
        servers.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile())
                .start());
        waitForPort(TEST_IP, port);
    }

    /** Stops the intercepts started by {@link #startExtraIntercept}. */
    void stopExtraIntercepts() {
        extraIntercepts.forEach(TcpTestNet::stop);
        extraIntercepts.clear();
    }

    /**
     * Starts a second intercept on {@code port} serving TLS with a fresh self-signed certificate for
     * {@link #INTERCEPT_IP}; returns the certificate (PEM) a client must trust.
     */
    Path startTlsIntercept(int port) throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out",
                cert.toString(), "-days", "1", "-subj", "/CN=" + INTERCEPT_IP, "-addext", "subjectAltName=IP:" + INTERCEPT_IP));
        tlsIntercept = startIntercept(port, ANSWERS_FILTER, "--tls-cert", cert.toString(), "--tls-key", key.toString());
        return cert;
    }

    /** A self-signed certificate nobody serves (a CA the TLS intercept's certificate does not chain to). */
    Path strangerCertificate() throws Exception {
        Path cert = dir.resolve("stranger.pem");
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir.resolve("stranger-key.pem").toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=stranger"));
        return cert;
    }

    private Process startIntercept(int port, String filter, String... extra) throws Exception {
        String cp = System.getProperty("java.class.path");
        if (!interceptOnClasspath()) {
            cp = interceptClasses() + File.pathSeparator + cp + File.pathSeparator + Paths.get(
                    System.getProperty("user.home"), ".m2/repository/org/pcap4j/pcap4j-core/1.8.2/pcap4j-core-1.8.2.jar");
        }
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ASSIST_NS, java.toString(), "-cp", cp,
                "dev.trafficbus.intercept.InterceptMain", "--interface", "tbt-b2",
                "--filter", filter,
                "--listen", INTERCEPT_IP + ":" + port, "--token-file", token.toString()));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("intercept.out").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(INTERCEPT_IP, port), 200);
                return p;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IllegalStateException("intercept did not start: " + interceptOutput());
                }
                Thread.sleep(100);
            }
        }
    }

    /** Stops intercept (SIGKILL, as a crash would). */
    void killIntercept() throws InterruptedException {
        if (intercept != null) {
            intercept.destroyForcibly();
            intercept.waitFor(10, TimeUnit.SECONDS);
            intercept = null;
        }
    }

    String interceptOutput() throws IOException {
        Path p = dir.resolve("intercept.out");
        return Files.exists(p) ? Files.readString(p) : "";
    }

    /** Packets received so far on the replayer's link to the test server. */
    static long replayerRxPackets() throws IOException {
        return Long.parseLong(Files.readString(Paths.get("/sys/class/net/" + REPLAYER_LINK + "/statistics/rx_packets")).trim());
    }

    static String resource(String name) {
        return Paths.get("src/test/resources/tcp", name).toAbsolutePath().toString();
    }

    private static void waitForPort(String host, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException(host + ":" + port + " did not open within 20 s");
    }

    static void sh(String cmd) throws Exception {
        run(List.of("sh", "-c", cmd));
    }

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static void quiet(String cmd) {
        try {
            new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort cleanup
        }
    }

    private static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops nginx and redis (to start fresh ones). */
    void stopServers() {
        stop(nginx);
        stop(redis);
        servers.forEach(TcpTestNet::stop);
        servers.clear();
        nginx = null;
        redis = null;
    }

    @Override
    public void close() {
        close(true);
    }

    private void close(boolean processes) {
        if (processes) {
            stop(intercept);
            stop(tlsIntercept);
            stopExtraIntercepts();
            stopServers();
            intercept = null;
        }
        quiet("ip link del tbt-a0");
        quiet("ip link del tbt-c0");
        quiet("ip netns del " + TEST_NS);
        quiet("ip netns del " + ASSIST_NS);
        if (processes) {
            quiet("rm -rf " + dir);
            try {
                lock.release();
                lockChannel.close();
            } catch (IOException e) {
                // the lock goes with the process anyway
            }
        }
    }
}
