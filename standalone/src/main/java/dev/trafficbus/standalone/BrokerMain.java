package dev.trafficbus.standalone;

import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus broker}. */
public final class BrokerMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public BrokerMain() {
    }

    public static void main(String[] args) {
        System.exit(new BrokerMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new BrokerCommand();
    }

    @Override
    public void prepare() {
        ServerLogLevels.quiet();
    }
}
