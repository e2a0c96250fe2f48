package dev.trafficbus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class TrafficbusMainTest {
    static final AtomicReference<String> GREETED = new AtomicReference<>();

    @Command(name = "greet", mixinStandardHelpOptions = true,
            description = "Greets someone by name. Says nothing else; exits 0.")
    static final class GreetCommand implements Callable<Integer> {
        @Option(names = "--name", defaultValue = "world", description = "Whom to greet.")
        String name;

        @Override
        public Integer call() {
            GREETED.set(name);
            return 0;
        }
    }

    static final class Greet implements Subcommand {
        boolean prepared;

        @Override
        public Object newCommand() {
            return new GreetCommand();
        }

        @Override
        public void prepare() {
            prepared = true;
        }
    }

    final Greet greet = new Greet();
    final Map<String, Subcommand> commands = Map.of("greet", greet);
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void helpListsEachCommandWithTheFirstSentenceOfItsDescription() {
        assertThat(run("help")).isZero();
        assertThat(out()).startsWith("Usage: trafficbus <command> [options]")
                .containsPattern("\\n  greet +Greets someone by name\\.\\n")
                .doesNotContain("Says nothing else")
                .contains("Run 'trafficbus <command> --help'");
        out.reset();
        assertThat(run()).isZero();
        assertThat(out()).contains("greet");
    }

    @Test
    void runsTheNamedCommandWithTheRestOfTheArguments() {
        assertThat(run("greet", "--name", "bus")).isZero();
        assertThat(GREETED.get()).isEqualTo("bus");
        assertThat(greet.prepared).isTrue();
    }

    @Test
    void helpWithACommandShowsThatCommandsOptions() {
        // The command's own help goes where picocli writes it, System.out.
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertThat(run("help", "greet")).isZero();
        } finally {
            System.setOut(old);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).contains("--name", "Whom to greet.");
    }

    @Test
    void anUnknownCommandIsABadInputNamingIt() {
        assertThat(run("grete")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("greet", "trafficbus: unknown command 'grete'");
    }

    private int run(String... args) {
        return TrafficbusMain.run(commands, args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }
}
