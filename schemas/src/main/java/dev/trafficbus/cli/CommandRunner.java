package dev.trafficbus.cli;

import picocli.CommandLine;

/** Runs a picocli command the same way for every trafficbus component: user errors exit 2 with one line. */
public final class CommandRunner {
    /** Exit code for bad input or configuration. */
    public static final int EXIT_USER_ERROR = 2;

    private CommandRunner() {
    }

    /**
     * Sets the given slf4j-simple loggers to error level unless the user chose a level: for library
     * warnings a command already reports in its own words. Takes effect for loggers created afterwards.
     */
    public static void quietLoggers(String... loggerNames) {
        for (String logger : loggerNames) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "error");
            }
        }
    }

    /** Parses {@code args}, runs the command and returns its exit code. */
    public static int run(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            Throwable cause = ex;
            while (!(cause instanceof UserInputException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof UserInputException) {
                line.getErr().println("trafficbus " + line.getCommandName() + ": " + cause.getMessage());
                return EXIT_USER_ERROR;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, params) -> {
            CommandLine line = ex.getCommandLine();
            line.getErr().println("trafficbus " + line.getCommandName() + ": " + ex.getMessage());
            line.getErr().println("Run 'trafficbus " + line.getCommandName() + " --help' for the options.");
            return EXIT_USER_ERROR;
        });
        return cl.execute(args);
    }
}
