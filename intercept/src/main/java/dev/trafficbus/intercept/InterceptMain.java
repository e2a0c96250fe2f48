package dev.trafficbus.intercept;

import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus intercept}; arguments come without the subcommand name. */
public final class InterceptMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public InterceptMain() {
    }

    /** Runs {@link InterceptCommand} and exits with its code (0 stopped, 1 capture failed, 2 bad input). */
    public static void main(String[] args) {
        System.exit(new InterceptMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new InterceptCommand();
    }
}
