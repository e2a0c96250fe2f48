package dev.trafficbus.deploy;

import dev.trafficbus.capture.ForwardCommand;
import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.intercept.InterceptCommand;
import dev.trafficbus.replay.ReplayCommand;
import dev.trafficbus.subscription.ProcessMain;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs a component's command with {@code --config FILE --print-config}: it reads and validates the file (every key
 * an option, every value parsed) and prints the effective configuration, without connecting anywhere.
 */
final class PrintConfig {
    /** The command of each component, by the name its config file and the launcher use. */
    private static final Map<String, Supplier<Object>> COMMANDS = Map.of(
            "forward", ForwardCommand::new,
            "process", ProcessMain::new,
            "intercept", InterceptCommand::new,
            "replay", ReplayCommand::new);

    private PrintConfig() {
    }

    /** The effective configuration of {@code component} with {@code file} and {@code env}; fails unless it exits 0. */
    static String of(String component, Path file, Map<String, String> env) {
        Supplier<Object> command = COMMANDS.get(component);
        assertThat(command).as("a command named " + component).isNotNull();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            code = CommandRunner.runWithEnvironment(env, command.get(), "--config", file.toString(), "--print-config");
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(component + " --config " + file + ": " + err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(text).contains("effective configuration");
        return text;
    }

    /** The value column of the line for {@code option} (e.g. "--port"). */
    static String value(String printed, String option) {
        String line = printed.lines().filter(l -> l.startsWith(option + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + option + " in:\n" + printed));
        return line.substring(option.length()).strip().split("\\s{2,}")[0];
    }

    /** The line for {@code option}, with where its value came from. */
    static String line(String printed, String option) {
        return printed.lines().filter(l -> l.startsWith(option + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + option + " in:\n" + printed));
    }

    /** The checkout's top folder (where docker-compose.yml and deploy/ are). */
    static Path checkout() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docker-compose.yml")) && Files.isDirectory(p.resolve("deploy"))) {
                return p;
            }
        }
        throw new IllegalStateException("docker-compose.yml and deploy/ not found above " + Path.of("").toAbsolutePath());
    }
}
