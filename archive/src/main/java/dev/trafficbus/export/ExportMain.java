package dev.trafficbus.export;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus export}; arguments come without the subcommand name. */
public final class ExportMain {
    private ExportMain() {
    }

    /** Runs {@link ExportCommand} and exits with its code (0 done, 2 bad input). */
    public static void main(String[] args) {
        quietClientLogs();
        System.exit(CommandRunner.run(new ExportCommand(), args));
    }

    /** The command reports an unreachable broker itself; the client's connection warnings are noise. */
    static void quietClientLogs() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }
}
