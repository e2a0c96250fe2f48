package dev.trafficbus.standalone;

import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus standalone}. */
public final class StandaloneMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public StandaloneMain() {
    }

    public static void main(String[] args) {
        System.exit(new StandaloneMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new StandaloneCommand();
    }

    @Override
    public void prepare() {
        ServerLogLevels.quiet();
    }
}
