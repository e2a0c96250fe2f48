package dev.trafficbus.replay;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus replay}; arguments come without the subcommand name. */
public final class ReplayMain {
    private ReplayMain() {
    }

    /** Runs {@link ReplayCommand} and exits with its code (0 replayed, 1 failures or nothing replayed, 2 bad input). */
    public static void main(String[] args) {
        quietClientLogs();
        System.exit(CommandRunner.run(new ReplayCommand(), args));
    }

    /**
     * The replay reports an unreachable broker itself; the client's warning for every connection attempt
     * is noise. Takes effect for loggers created afterwards, unless the user set the level.
     */
    static void quietClientLogs() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }
}
