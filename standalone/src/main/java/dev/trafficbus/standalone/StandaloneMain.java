package dev.trafficbus.standalone;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus standalone}. */
public final class StandaloneMain {
    private StandaloneMain() {
    }

    public static void main(String[] args) {
        ServerLogLevels.quiet();
        System.exit(CommandRunner.run(new StandaloneCommand(), args));
    }
}
