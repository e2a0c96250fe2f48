package dev.trafficbus.cli;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where each option of a command gets its value: the command line wins over the {@code --config} file, the file
 * over the environment ({@code TRAFFICBUS_<OPTION>}), the environment over the built-in default. Single-valued
 * options are served as picocli defaults; repeatable ones and members of argument groups are added to the
 * arguments, because a picocli default is one value only and does not satisfy a group.
 */
final class ConfigSources implements IDefaultValueProvider {
    static final String CONFIG_OPTION = "--config";
    static final String PRINT_OPTION = "--print-config";
    static final String ENV_PREFIX = "TRAFFICBUS_";

    private final CommandSpec spec;
    private final List<String> args;
    private final ConfigFile file;
    private final Map<String, String> env;
    private final Map<OptionSpec, String> injectedFrom = new LinkedHashMap<>();
    private final List<String> injectedArgs = new ArrayList<>();

    private ConfigSources(CommandSpec spec, String[] args, ConfigFile file, Map<String, String> env) {
        this.spec = spec;
        this.args = Arrays.asList(args);
        this.file = file;
        this.env = env;
    }

    /** Reads the config file named by the arguments (or TRAFFICBUS_CONFIG) and checks its keys against the command. */
    static ConfigSources resolve(CommandSpec spec, String[] args, Map<String, String> env) {
        String configPath = configPathFromArgs(args);
        if (configPath == null) {
            configPath = env.get(envName(CONFIG_OPTION));
        }
        ConfigFile file = configPath == null || configPath.isBlank() ? null : ConfigFile.read(Path.of(configPath));
        ConfigSources sources = new ConfigSources(spec, args, file, env);
        if (file != null) {
            sources.checkKeys();
        }
        sources.injectRepeatables();
        return sources;
    }

    /** The arguments picocli parses: values of repeatable options from the file or environment, then the user's. */
    String[] effectiveArgs() {
        List<String> all = new ArrayList<>(injectedArgs);
        all.addAll(args);
        return all.toArray(String[]::new);
    }

    ConfigFile file() {
        return file;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || injected(option) || !configurable(option)) {
            return null;
        }
        List<String> fromFile = file == null ? null : file.values().get(key(option));
        if (fromFile != null) {
            return fromFile.get(0); // checkKeys made sure it is the only one
        }
        return env.get(envName(option.longestName()));
    }

    /** "command line", "file FILE", "env TRAFFICBUS_X" or "default": where {@code option}'s value came from. */
    String sourceOf(OptionSpec option) {
        if (onCommandLine(option)) {
            return "command line";
        }
        String injected = injectedFrom.get(option);
        if (injected != null) {
            return injected;
        }
        if (!injected(option) && configurable(option)) {
            if (file != null && file.values().containsKey(key(option))) {
                return "file " + file.path();
            }
            if (env.containsKey(envName(option.longestName()))) {
                return "env " + envName(option.longestName());
            }
        }
        return "default";
    }

    private void checkKeys() {
        for (String key : file.values().keySet()) {
            OptionSpec option = spec.findOption("--" + key);
            if (option == null || !key.equals(key(option)) || !configurable(option)) {
                throw new UserInputException("--config " + file.path() + ": unknown key '" + key + "': 'trafficbus "
                        + spec.name() + "' has no option --" + key + " (keys are the long option names without dashes; see --help)");
            }
            if (!option.isMultiValue() && file.values().get(key).size() != 1) {
                throw new UserInputException("--config " + file.path() + ": key '" + key + "' takes one value, not a list");
            }
        }
    }

    /** Options whose file or environment values go into the arguments instead of picocli's defaults. */
    private static boolean injected(OptionSpec option) {
        return option.isMultiValue() || option.group() != null;
    }

    private void injectRepeatables() {
        // In a group of alternatives (--pcap | --interface) the first source that sets any of them wins for all.
        Set<ArgGroupSpec> onCommandLine = new HashSet<>();
        Set<ArgGroupSpec> inFile = new HashSet<>();
        for (OptionSpec option : spec.options()) {
            if (option.group() != null && option.group().exclusive()) {
                if (onCommandLine(option)) {
                    onCommandLine.add(option.group());
                }
                if (file != null && file.values().containsKey(key(option))) {
                    inFile.add(option.group());
                }
            }
        }
        for (OptionSpec option : spec.options()) {
            if (!injected(option) || !configurable(option) || onCommandLine(option)) {
                continue;
            }
            ArgGroupSpec group = option.group() != null && option.group().exclusive() ? option.group() : null;
            if (group != null && onCommandLine.contains(group)) {
                continue;
            }
            List<String> values = file == null ? null : file.values().get(key(option));
            String from = values == null ? null : "file " + file.path();
            if (values == null && (group == null || !inFile.contains(group))) {
                String raw = env.get(envName(option.longestName()));
                if (raw != null && !raw.isBlank()) {
                    // With a split regex picocli splits the one value itself; otherwise a comma separates values.
                    values = !option.isMultiValue() || !option.splitRegex().isEmpty() ? List.of(raw)
                            : Arrays.stream(raw.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
                    from = "env " + envName(option.longestName());
                }
            }
            if (values == null || values.isEmpty()) {
                continue;
            }
            for (String value : values) {
                if (option.arity().max() == 0) {
                    if (Boolean.parseBoolean(value.trim())) {
                        injectedArgs.add(option.longestName()); // a flag takes no value: present means true
                    }
                } else {
                    injectedArgs.add(option.longestName() + "=" + value);
                }
            }
            injectedFrom.put(option, from);
        }
    }

    private boolean onCommandLine(OptionSpec option) {
        for (String arg : args) {
            if (arg.equals("--")) {
                return false;
            }
            for (String name : option.names()) {
                if (arg.equals(name) || arg.startsWith(name + "=")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Help, version and the config options themselves come only from the command line. */
    static boolean configurable(OptionSpec option) {
        String name = option.longestName();
        return option.longestName().startsWith("--") && !option.usageHelp() && !option.versionHelp()
                && !name.equals(CONFIG_OPTION) && !name.equals(PRINT_OPTION);
    }

    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    static String envName(String optionName) {
        return ENV_PREFIX + optionName.replaceFirst("^-+", "").toUpperCase(Locale.ROOT).replace('-', '_');
    }

    private static String configPathFromArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                return null;
            }
            if (args[i].equals(CONFIG_OPTION) && i + 1 < args.length) {
                return args[i + 1];
            }
            if (args[i].startsWith(CONFIG_OPTION + "=")) {
                return args[i].substring(CONFIG_OPTION.length() + 1);
            }
        }
        return null;
    }
}
