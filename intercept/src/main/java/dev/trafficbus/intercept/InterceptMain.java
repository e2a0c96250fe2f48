package dev.trafficbus.intercept;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus intercept}; arguments come without the subcommand name. */
public final class InterceptMain {
    private InterceptMain() {
    }

    /** Runs {@link InterceptCommand} and exits with its code (0 stopped, 1 capture failed, 2 bad input). */
    public static void main(String[] args) {
        System.exit(CommandRunner.run(new InterceptCommand(), args));
    }
}
