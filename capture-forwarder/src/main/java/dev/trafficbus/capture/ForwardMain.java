package dev.trafficbus.capture;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus forward}; arguments come without the subcommand name. */
public final class ForwardMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public ForwardMain() {
    }

    /** Runs {@link ForwardCommand} and exits with its code (0 done, 1 publish errors, 2 bad input). */
    public static void main(String[] args) {
        System.exit(new ForwardMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new ForwardCommand();
    }

    @Override
    public void prepare() {
        quietClientLogs();
    }

    /**
     * The forwarder reports an unreachable broker and every failed record itself; the client's warnings
     * about connection attempts and retried requests (e.g. the first sends to a brand-new topic) are noise.
     * Takes effect for loggers created afterwards.
     */
    static void quietClientLogs() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient",
                "org.apache.kafka.clients.producer.internals.Sender");
    }
}
