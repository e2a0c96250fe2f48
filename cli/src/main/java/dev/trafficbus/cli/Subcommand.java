package dev.trafficbus.cli;

/**
 * One trafficbus command as the root command ({@link TrafficbusMain}) finds it: each module names its commands in
 * {@code META-INF/services/dev.trafficbus.cli.Subcommand}, so a command's classpath carries exactly its own. The
 * name users type is the {@code @Command(name)} of {@link #newCommand()}.
 */
public interface Subcommand {
    /** A new picocli command object (annotated with {@code @Command}), as {@link CommandRunner} runs it. */
    Object newCommand();

    /** Runs before the command does, e.g. to quiet library loggers whose warnings the command reports itself. */
    default void prepare() {
    }

    /** Runs the command with {@code args} (those after its name) and returns its exit code. */
    default int run(String... args) {
        prepare();
        return CommandRunner.run(newCommand(), args);
    }
}
