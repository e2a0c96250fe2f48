package dev.trafficbus.export;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus export}; arguments come without the subcommand name. */
public final class ExportMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public ExportMain() {
    }

    /** Runs {@link ExportCommand} and exits with its code (0 done, 2 bad input). */
    public static void main(String[] args) {
        System.exit(new ExportMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new ExportCommand();
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
