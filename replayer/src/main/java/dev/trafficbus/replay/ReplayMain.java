package dev.trafficbus.replay;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus replay}; arguments come without the subcommand name. */
public final class ReplayMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public ReplayMain() {
    }

    /** Runs {@link ReplayCommand} and exits with its code (0 replayed, 1 failures or nothing replayed, 2 bad input). */
    public static void main(String[] args) {
        System.exit(new ReplayMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new ReplayCommand();
    }

    @Override
    public void prepare() {
        quietClientLogs();
    }

    /**
     * The replay reports an unreachable broker itself; the client's warning for every connection attempt
     * is noise. Takes effect for loggers created afterwards, unless the user set the level.
     */
    static void quietClientLogs() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }
}
