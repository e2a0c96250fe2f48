package dev.trafficbus.status;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus status}. */
public final class StatusMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public StatusMain() {
    }

    public static void main(String[] args) {
        System.exit(new StatusMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new StatusCommand();
    }

    @Override
    public void prepare() {
        // Status reports an unreachable or refusing broker in its own words; the client's retries are noise.
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient", "org.apache.kafka.clients.admin.internals",
                "org.apache.kafka.common.network.Selector");
    }
}
