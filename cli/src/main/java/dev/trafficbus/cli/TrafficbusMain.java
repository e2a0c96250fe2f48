package dev.trafficbus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The {@code trafficbus} root command: runs {@code trafficbus <command> [options]} through {@link CommandRunner} and
 * generates the list of commands from the {@link Subcommand}s on the classpath (their own {@code @Command}).
 */
@Command(name = "trafficbus", usageHelpWidth = 120,
        description = "Copies production TCP traffic onto a Kafka bus and replays it against test servers.",
        synopsisHeading = "Usage: ", customSynopsis = "trafficbus <command> [options]",
        commandListHeading = "%nCommands:%n",
        footer = {"", "Run 'trafficbus <command> --help' (or 'trafficbus help <command>') for a command's options.",
                "Environment: JAVA_HOME (which java), JAVA_OPTS (extra JVM options), "
                        + "TRAFFICBUS_LOG=info|debug (more log lines)."})
public final class TrafficbusMain {
    /** Runs the command named by the first argument and exits with its code. */
    public static void main(String[] args) {
        System.exit(run(commands(), args, System.out, System.err));
    }

    /** Every command on the classpath by name. */
    static Map<String, Subcommand> commands() {
        Map<String, Subcommand> commands = new TreeMap<>();
        for (Subcommand command : ServiceLoader.load(Subcommand.class)) {
            commands.put(name(command), command);
        }
        return commands;
    }

    static int run(Map<String, Subcommand> commands, String[] args, PrintStream out, PrintStream err) {
        String first = args.length == 0 ? "help" : args[0];
        if (first.equals("help") || first.equals("--help") || first.equals("-h")) {
            if (args.length >= 2 && commands.containsKey(args[1])) {
                return run(commands, new String[] {args[1], "--help"}, out, err);
            }
            out.print(usage(commands));
            out.flush();
            return 0;
        }
        Subcommand command = commands.get(first);
        if (command == null) {
            err.print(usage(commands));
            err.println("trafficbus: unknown command '" + first + "'");
            err.flush();
            return CommandRunner.EXIT_USER_ERROR;
        }
        return command.run(Arrays.copyOfRange(args, 1, args.length));
    }

    /** The root help: each command with its own one-line header. */
    static String usage(Map<String, Subcommand> commands) {
        CommandLine root = new CommandLine(new TrafficbusMain());
        root.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST,
                help -> commandList(commands, help));
        root.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST_HEADING,
                help -> String.format("%nCommands:%n"));
        return root.getUsageMessage(Help.Ansi.OFF);
    }

    private static String commandList(Map<String, Subcommand> commands, Help help) {
        int width = help.commandSpec().usageMessage().width();
        TextTable table = TextTable.forColumns(help.colorScheme(),
                new Column(17, 2, Column.Overflow.SPAN), new Column(width - 17, 2, Column.Overflow.WRAP));
        for (Map.Entry<String, Subcommand> entry : commands.entrySet()) {
            table.addRowValues(entry.getKey(), summary(entry.getValue()));
        }
        table.addRowValues("help", "This list; 'trafficbus help <command>' shows a command's options.");
        return table.toString();
    }

    /** The command's header line, or else the first sentence of its description. */
    static String summary(Subcommand command) {
        Command annotation = command.newCommand().getClass().getAnnotation(Command.class);
        if (annotation.header().length > 0) {
            return annotation.header()[0];
        }
        String[] description = annotation.description();
        String text = description.length == 0 ? "" : description[0].strip();
        int end = text.indexOf(". ");
        return end < 0 ? text : text.substring(0, end + 1);
    }

    private static String name(Subcommand command) {
        Command annotation = command.newCommand().getClass().getAnnotation(Command.class);
        if (annotation == null || annotation.name().equals("<main class>")) {
            throw new IllegalStateException(command.getClass().getName() + " makes a command without @Command(name)");
        }
        return annotation.name();
    }
}
