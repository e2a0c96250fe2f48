package dev.trafficbus.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command to its end within a time bound; stdout and stderr together, through a file (no pipe to fill). */
final class CommandRun {
    record Result(int exitCode, String output, Duration took) {
    }

    private CommandRun() {
    }

    static Result run(List<String> command, Path workDir, Map<String, String> environment, Duration timeout)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("tb-dist-", ".log");
        long start = System.nanoTime();
        Process process = start(command, workDir, environment, log);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(command + " did not finish within " + timeout + "; its output:\n"
                        + Files.readString(log));
            }
            return new Result(process.exitValue(), Files.readString(log), Duration.ofNanos(System.nanoTime() - start));
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    /** Starts a command in the background, its output going to {@code log}; the caller stops it. */
    static Process start(List<String> command, Path workDir, Map<String, String> environment, Path log)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        return builder.start();
    }
}
