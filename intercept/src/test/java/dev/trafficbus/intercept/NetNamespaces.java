package dev.trafficbus.intercept;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for tests: runs {@code ip} to build them and switches the calling thread into one with
 * setns(2), so sockets and captures opened there belong to that namespace. Needs root.
 */
final class NetNamespaces {
    private static final int O_RDONLY = 0;
    private static final int CLONE_NEWNET = 0x40000000;

    /** The few libc calls the switch needs. */
    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int open(String path, int flags);

        int close(int fd);

        int setns(int fd, int nstype);
    }

    private NetNamespaces() {
    }

    static boolean root() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** Runs {@code action} on this thread inside namespace {@code ns}, then switches back. */
    static <T> T in(String ns, Callable<T> action) throws Exception {
        LibC c = LibC.INSTANCE;
        int self = c.open("/proc/thread-self/ns/net", O_RDONLY);
        int target = c.open("/var/run/netns/" + ns, O_RDONLY);
        if (self < 0 || target < 0) {
            closeQuietly(self);
            closeQuietly(target);
            throw new IOException("cannot open namespace files for " + ns);
        }
        try {
            if (c.setns(target, CLONE_NEWNET) != 0) {
                throw new IOException("setns into " + ns + " failed (errno " + Native.getLastError() + ")");
            }
            try {
                return action.call();
            } finally {
                if (c.setns(self, CLONE_NEWNET) != 0) {
                    throw new IllegalStateException("cannot switch back from namespace " + ns);
                }
            }
        } finally {
            c.close(self);
            c.close(target);
        }
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            LibC.INSTANCE.close(fd);
        }
    }

    /** Runs a command, bounded to 10 s; throws with its output when it fails. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out.trim());
        }
        return out;
    }

    /** Runs every command in order, each split on spaces. */
    static void script(List<String> lines) throws IOException, InterruptedException {
        for (String line : lines) {
            run(line.split(" "));
        }
    }

    /** Deletes the namespaces (and so every interface in them), ignoring those already gone. */
    static void delete(String... namespaces) {
        List<String> failed = new ArrayList<>();
        for (String ns : namespaces) {
            try {
                run("ip", "netns", "del", ns);
            } catch (IOException | InterruptedException e) {
                failed.add(ns);
            }
        }
        if (!failed.isEmpty()) {
            System.err.println("namespaces not deleted (maybe never created): " + failed);
        }
    }
}
