package dev.trafficbus.replay;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real servers for the replayer's tests, on loopback: nginx-light in its own prefix, free ports, executables. */
public final class LocalServers {
    private LocalServers() {
    }

    /** A free loopback port. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Waits up to 20 s until {@code port} on loopback accepts a connection. */
    public static void waitForPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("port " + port + " did not open within 20 s");
    }

    /** The path of {@code name}; the test is skipped, saying which Debian package to install, when it is missing. */
    public static String executable(String name, String debianPackage) {
        for (String d : List.of("/usr/sbin/", "/usr/bin/", "/usr/local/bin/")) {
            if (new File(d + name).canExecute()) {
                return d + name;
            }
        }
        Assumptions.abort(name + " is not installed (Debian package " + debianPackage + "); this test did not run");
        return null;
    }

    /** Skips the test, saying which Debian package to install, unless {@code path} exists. */
    public static void requireFile(String path, String debianPackage) {
        if (!new File(path).exists()) {
            Assumptions.abort(path + " is missing (Debian package " + debianPackage + "); this test did not run");
        }
    }

    /** Writes {@code prefix}/nginx.conf: one worker in the foreground, logs under {@code prefix}, {@code http} in it. */
    public static void nginxConfig(Path prefix, String http) throws IOException {
        Files.createDirectories(prefix.resolve("logs"));
        Files.createDirectories(prefix.resolve("html"));
        Files.writeString(prefix.resolve("nginx.conf"), """
                %s
                worker_processes 1;
                daemon off;
                error_log logs/error.log warn;
                pid logs/nginx.pid;
                events { worker_connections 256; }
                http {
                %s
                }
                """.formatted(
                // As root, workers would run as nobody and could not read the test's private directory.
                "root".equals(System.getProperty("user.name")) ? "user root;" : "", http));
    }

    /**
     * Starts nginx-light in {@code prefix} (logs/ and html/ below it) with {@code http} as the body of its
     * http block, and waits for {@code port}, which {@code http} listens on; the caller stops the process.
     */
    public static Process nginx(Path prefix, String http, int port) throws Exception {
        String nginx = executable("nginx", "nginx-light");
        nginxConfig(prefix, http);
        Process p = new ProcessBuilder(nginx, "-p", prefix + "/", "-c", prefix.resolve("nginx.conf").toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("stdout.log").toFile()).start();
        try {
            waitForPort(port);
        } catch (IllegalStateException e) {
            p.destroyForcibly();
            throw new IllegalStateException(e.getMessage() + "; nginx said: "
                    + Files.readString(prefix.resolve("logs/error.log")) + Files.readString(prefix.resolve("stdout.log")), e);
        }
        return p;
    }
}
