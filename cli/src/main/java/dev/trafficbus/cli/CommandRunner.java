package dev.trafficbus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.Map;

/**
 * Runs a picocli command the same way for every trafficbus component: user errors (and Kafka refusing the
 * credentials) exit 2 with one line; every command gets {@code --config FILE} and {@code --print-config}, and
 * takes option values from the command line, then the file, then {@code TRAFFICBUS_<OPTION>} variables.
 */
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

    /** Parses {@code args} (with the process environment), runs the command and returns its exit code. */
    public static int run(Object command, String... args) {
        return runWithEnvironment(System.getenv(), command, args);
    }

    /** Like {@link #run(Object, String...)} with {@code environment} in place of the process's (for tests). */
    public static int runWithEnvironment(Map<String, String> environment, Object command, String... args) {
        // A refused login fails the call that made it, and the handler below says so in one line; the admin
        // client would also log it as a warning with the exception.
        quietLoggers("org.apache.kafka.clients.admin.internals.AdminMetadataManager");
        CommandLine cl = new CommandLine(command);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            Throwable cause = ex;
            while (!(cause instanceof UserInputException) && cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            if (!(cause instanceof UserInputException)) {
                cause = KafkaErrors.refusal(ex);
            }
            if (cause instanceof UserInputException) {
                line.getErr().println("trafficbus " + line.getCommandName() + ": " + cause.getMessage());
                return EXIT_USER_ERROR;
            }
            throw ex;
        });
        CommandSpec spec = cl.getCommandSpec();
        if (spec.findOption(ConfigSources.CONFIG_OPTION) != null || spec.findOption(ConfigSources.PRINT_OPTION) != null) {
            cl.setParameterExceptionHandler((ex, params) -> parameterError(ex, null));
            return cl.execute(args); // the command handles configuration itself
        }
        OptionSpec printOption = addConfigOptions(spec);
        ConfigSources sources;
        try {
            sources = ConfigSources.resolve(spec, args, environment);
        } catch (UserInputException e) {
            cl.getErr().println("trafficbus " + cl.getCommandName() + ": " + e.getMessage());
            return EXIT_USER_ERROR;
        }
        cl.setDefaultValueProvider(sources);
        cl.setParameterExceptionHandler((ex, params) -> parameterError(ex, sources));
        cl.setExecutionStrategy(parsed -> {
            if (Boolean.TRUE.equals(printOption.getValue()) && !parsed.isUsageHelpRequested() && !parsed.isVersionHelpRequested()) {
                EffectiveConfig.print(spec, sources, cl.getOut());
                return 0;
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        return cl.execute(sources.effectiveArgs());
    }

    private static OptionSpec addConfigOptions(CommandSpec spec) {
        spec.addOption(OptionSpec.builder(ConfigSources.CONFIG_OPTION).paramLabel("FILE").type(Path.class)
                .description("YAML file of option values, keys are the long option names (bootstrap-servers: kafka:9092); "
                        + "command-line options win over it, it wins over TRAFFICBUS_<OPTION> environment variables.")
                .build());
        OptionSpec print = OptionSpec.builder(ConfigSources.PRINT_OPTION).arity("0").type(boolean.class)
                .description("Print the effective configuration (value and origin of every option, secrets masked) and exit.")
                .build();
        spec.addOption(print);
        return print;
    }

    private static int parameterError(CommandLine.ParameterException ex, ConfigSources sources) {
        CommandLine line = ex.getCommandLine();
        String where = "";
        if (sources != null && ex.getArgSpec() instanceof OptionSpec option) {
            String from = sources.sourceOf(option);
            if (!from.equals("command line") && !from.equals("default")) {
                where = " (value from " + from + ")";
            }
        }
        line.getErr().println("trafficbus " + line.getCommandName() + ": " + ex.getMessage() + where);
        line.getErr().println("Run 'trafficbus " + line.getCommandName() + " --help' for the options.");
        return EXIT_USER_ERROR;
    }
}
