package dev.trafficbus.diff;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus diff}; arguments come without the subcommand name. */
public final class DiffMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public DiffMain() {
    }

    /** Runs {@link DiffCommand} and exits with its code (0 equal, 1 differences, 2 bad input). */
    public static void main(String[] args) {
        System.exit(new DiffMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new DiffCommand();
    }

    @Override
    public void prepare() {
        quietClientLogs();
    }

    /** The command reports an unreachable broker itself; the client's connection warnings are noise. */
    static void quietClientLogs() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }
}
