package dev.trafficbus.deploy;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A command-line tool on the PATH (docker-compose, kubectl), run in the checkout; a test skips, saying so, without it. */
final class Tool {
    /** What a run printed (stdout and stderr together) and its exit code. */
    record Result(int exit, String output) {
    }

    private final String path;

    private Tool(String path) {
        this.path = path;
    }

    /** The tool {@code name}; skips the calling test, naming {@code install} and what went unchecked, without it. */
    static Tool require(String name, String install, String unchecked) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            File f = new File(dir, name);
            if (f.canExecute()) {
                return new Tool(f.getPath());
            }
        }
        assumeTrue(false, name + " is not installed (" + install + "); " + unchecked + " was not checked");
        throw new IllegalStateException("unreachable");
    }

    /** Runs the tool with {@code args} in the checkout, for at most 60 s. */
    Result run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(path));
        command.addAll(List.of(args));
        Path dir = PrintConfig.checkout();
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command) + " ends").isTrue();
            return new Result(p.exitValue(), out);
        } finally {
            p.destroyForcibly();
        }
    }
}
