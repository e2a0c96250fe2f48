package dev.trafficbus.standalone;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus broker}. */
public final class BrokerMain {
    private BrokerMain() {
    }

    public static void main(String[] args) {
        ServerLogLevels.quiet();
        System.exit(CommandRunner.run(new BrokerCommand(), args));
    }
}
