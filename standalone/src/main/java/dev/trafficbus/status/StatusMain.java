package dev.trafficbus.status;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus status}. */
public final class StatusMain {
    private StatusMain() {
    }

    public static void main(String[] args) {
        // Status reports an unreachable or refusing broker in its own words; the client's retries are noise.
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient", "org.apache.kafka.clients.admin.internals",
                "org.apache.kafka.common.network.Selector");
        System.exit(CommandRunner.run(new StatusCommand(), args));
    }
}
