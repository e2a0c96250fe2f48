package dev.trafficbus.diff;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus diff}; arguments come without the subcommand name. */
public final class DiffMain {
    private DiffMain() {
    }

    /** Runs {@link DiffCommand} and exits with its code (0 equal, 1 differences, 2 bad input). */
    public static void main(String[] args) {
        quietClientLogs();
        System.exit(CommandRunner.run(new DiffCommand(), args));
    }

    /** The command reports an unreachable broker itself; the client's connection warnings are noise. */
    static void quietClientLogs() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }
}
