package dev.trafficbus.capture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two network namespaces standing in for hosts, a client and a server running nginx, joined through a bridge
 * in this (the test's) namespace. The server's veth has its host end here ({@link #captureInterface()}): it sees
 * exactly the server's packets, so a capture in the test JVM watches the server side while reaching the Kafka
 * broker on loopback. The bridge has an address too, so the test itself can talk to the server. Everything is
 * removed by {@link #close()}, also after a failed start.
 */
final class NetnsLab implements AutoCloseable {
    static final int HTTP_PORT = 8080;
    private static final AtomicInteger NEXT = new AtomicInteger();

    private final String id;
    private final String clientNs;
    private final String serverNs;
    private final String bridge;
    private final String serverVeth;
    private final String clientVeth;
    private final String subnet;
    private final Path dir;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> links = new ArrayList<>();
    private Process nginx;

    private NetnsLab(Path dir) {
        long pid = ProcessHandle.current().pid();
        int n = NEXT.getAndIncrement();
        id = (pid % 10000) + "" + n;
        clientNs = "tb7c-" + id;
        serverNs = "tb7s-" + id;
        bridge = "tb7b" + id;
        serverVeth = "tb7s" + id;
        clientVeth = "tb7c" + id;
        // A subnet per run, so labs of concurrent test runs never share addresses in the host's routing table.
        subnet = "10." + (200 + (int) (pid % 50)) + "." + (int) ((pid / 50 + n * 7) % 250) + ".";
        this.dir = dir;
    }

    /** True when this process may create namespaces and the tools the lab needs are installed. */
    static String unavailableReason() {
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor();
            if (!uid.equals("0")) {
                return "live capture tests need root (network namespaces, packet capture); uid is " + uid;
            }
        } catch (IOException | InterruptedException e) {
            return "cannot tell the user id: " + e;
        }
        for (String tool : List.of("ip", "nginx", "curl", "tcpdump")) {
            if (!onPath(tool)) {
                return "live capture tests need '" + tool + "' (iproute2, nginx-light, curl, tcpdump)";
            }
        }
        return null;
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    /** Builds the namespaces, the links and the server; removes what it made when a step fails. */
    static NetnsLab start(Path dir) throws Exception {
        NetnsLab lab = new NetnsLab(dir);
        try {
            lab.build();
            return lab;
        } catch (Exception | AssertionError e) {
            lab.close();
            throw e;
        }
    }

    private void build() throws Exception {
        for (String ns : List.of(clientNs, serverNs)) {
            run("ip", "netns", "add", ns);
            namespaces.add(ns);
            run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        run("ip", "link", "add", bridge, "type", "bridge");
        links.add(bridge);
        run("ip", "link", "add", serverVeth, "type", "veth", "peer", "name", "eth0", "netns", serverNs);
        links.add(serverVeth);
        run("ip", "link", "add", clientVeth, "type", "veth", "peer", "name", "eth0", "netns", clientNs);
        links.add(clientVeth);
        for (String veth : List.of(serverVeth, clientVeth)) {
            run("ip", "link", "set", veth, "master", bridge);
            offloadsOff(null, veth);
            run("ip", "link", "set", veth, "up");
        }
        run("ip", "addr", "add", subnet + "254/24", "dev", bridge);
        run("ip", "link", "set", bridge, "up");
        configure(serverNs, serverAddress());
        configure(clientNs, clientAddress());
        startNginx();
    }

    private void configure(String ns, String address) throws Exception {
        offloadsOff(ns, "eth0");
        run("ip", "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        run("ip", "-n", ns, "link", "set", "eth0", "up");
    }

    /** Without offloads the capture shows real MTU-sized segments, as on a production wire. */
    private void offloadsOff(String ns, String dev) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (ns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", ns));
        }
        cmd.addAll(List.of("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"));
        if (onPath("ethtool")) {
            exec(cmd, Duration.ofSeconds(10)); // best effort: a lab without ethtool still works
        }
    }

    private void startNginx() throws Exception {
        Path prefix = Files.createDirectories(dir.resolve("nginx-" + id));
        Path conf = prefix.resolve("nginx.conf");
        Files.writeString(conf, String.join("\n",
                "daemon off;", "master_process off;", "worker_processes 1;", "pid nginx.pid;", "error_log error.log warn;",
                "events { worker_connections 256; }",
                "http {",
                "  access_log access.log;",
                "  client_body_temp_path body_temp; proxy_temp_path proxy_temp; fastcgi_temp_path fastcgi_temp;",
                "  uwsgi_temp_path uwsgi_temp; scgi_temp_path scgi_temp;",
                "  keepalive_requests 100000; keepalive_timeout 30s;",
                "  server { listen " + HTTP_PORT + "; default_type text/plain; location / { return 200 \"ok\\n\"; } }",
                "}", ""));
        nginx = new ProcessBuilder("ip", "netns", "exec", serverNs, "nginx", "-p", prefix + "/", "-c", conf.toString(),
                "-e", prefix.resolve("error.log").toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("stdout.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            if (exec(List.of("ip", "netns", "exec", clientNs, "curl", "-s", "-o", "/dev/null", "--max-time", "1",
                    "http://" + serverAddress() + ":" + HTTP_PORT + "/ready"), Duration.ofSeconds(5)).exitCode() == 0) {
                return;
            }
            if (!nginx.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("nginx did not start in " + serverNs + ": "
                        + Files.readString(prefix.resolve("stdout.log")));
            }
            Thread.sleep(100);
        }
    }

    /** nginx's access log: one line per request it answered. */
    List<String> accessLog() throws IOException {
        Path log = dir.resolve("nginx-" + id).resolve("access.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    String captureInterface() {
        return serverVeth;
    }

    String serverAddress() {
        return subnet + "1";
    }

    String clientAddress() {
        return subnet + "2";
    }

    /** The address the test itself has on the bridge. */
    String hostAddress() {
        return subnet + "254";
    }

    /** Starts curl in the client namespace fetching every path over one connection (curl reuses it). */
    Process curl(List<String> paths) throws IOException {
        return curl(paths, List.of());
    }

    /** As {@link #curl(List)}, sending the request headers {@code headers} ("Name: value") with every request. */
    Process curl(List<String> paths, List<String> headers) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", clientNs, "curl", "-s", "--max-time", "60"));
        for (String header : headers) {
            cmd.addAll(List.of("-H", header));
        }
        for (String path : paths) {
            cmd.addAll(List.of("-o", "/dev/null", "http://" + serverAddress() + ":" + HTTP_PORT + path));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /**
     * Runs {@code connections} curl processes of {@code requestsPerConnection} requests each, all at once, and
     * waits for them; returns the paths requested ("/tag/connection/request").
     */
    List<String> burst(String tag, int connections, int requestsPerConnection) throws Exception {
        List<String> all = new ArrayList<>();
        List<Process> running = new ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                List<String> paths = new ArrayList<>();
                for (int r = 0; r < requestsPerConnection; r++) {
                    paths.add("/" + tag + "/" + c + "/" + r);
                }
                all.addAll(paths);
                running.add(curl(paths));
            }
            for (Process p : running) {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("curl did not finish within 60 s");
                }
                if (p.exitValue() != 0) {
                    throw new IllegalStateException("curl failed with exit code " + p.exitValue());
                }
            }
            return all;
        } finally {
            running.forEach(Process::destroy);
        }
    }

    @Override
    public void close() {
        if (nginx != null) {
            nginx.destroy();
            try {
                if (!nginx.waitFor(5, TimeUnit.SECONDS)) {
                    nginx.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String link : links) {
            quietly(List.of("ip", "link", "del", link));
        }
        for (String ns : namespaces) {
            quietly(List.of("ip", "netns", "del", ns));
        }
    }

    private static void quietly(List<String> cmd) {
        try {
            exec(cmd, Duration.ofSeconds(10));
        } catch (Exception e) {
            // Cleanup continues with the next item.
        }
    }

    private static void run(String... cmd) throws Exception {
        Result r = exec(List.of(cmd), Duration.ofSeconds(20));
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (" + r.exitCode() + "): " + r.output());
        }
    }

    record Result(int exitCode, String output) {
    }

    /** Runs a command to its end (bounded by {@code timeout}) and returns its exit code and merged output. */
    static Result exec(List<String> cmd, Duration timeout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not finish within " + timeout);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
