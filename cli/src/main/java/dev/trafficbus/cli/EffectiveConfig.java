package dev.trafficbus.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

/**
 * What {@code --print-config} shows: every option with its effective value and where the value came from, plus the
 * Kafka client properties of a {@code --kafka-config} file, with secrets masked.
 */
final class EffectiveConfig {
    private EffectiveConfig() {
    }

    static void print(CommandSpec spec, ConfigSources sources, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        for (OptionSpec option : spec.options()) {
            if (!ConfigSources.configurable(option) || option.hidden()) {
                continue;
            }
            rows.add(new String[] {option.longestName(), show(option), sources.sourceOf(option)});
            if (option.longestName().equals("--kafka-config") && option.getValue() != null) {
                rows.addAll(kafkaConfigRows(Path.of(option.getValue().toString())));
            }
        }
        out.println("# trafficbus " + spec.name() + ": effective configuration (command line > "
                + (sources.file() != null ? "file " + sources.file().path() : "--config file") + " > env "
                + ConfigSources.ENV_PREFIX + "* > default); secrets shown as " + SecretMask.MASK);
        int w0 = "option".length();
        int w1 = "value".length();
        for (String[] r : rows) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.min(60, Math.max(w1, r[1].length()));
        }
        String format = "%-" + w0 + "s  %-" + w1 + "s  %s%n";
        out.printf(format, "option", "value", "from");
        for (String[] r : rows) {
            out.printf(format, r[0], r[1], r[2]);
        }
        out.flush();
    }

    /** The properties of a --kafka-config file, listed under the option. */
    private static List<String[]> kafkaConfigRows(Path file) {
        List<String[]> rows = new ArrayList<>();
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            props.load(in);
            for (String key : new TreeSet<>(props.stringPropertyNames())) {
                rows.add(new String[] {"  " + key, SecretMask.show(key, props.getProperty(key)), "kafka-config " + file});
            }
        } catch (IOException | IllegalArgumentException e) {
            rows.add(new String[] {"  (unreadable)", String.valueOf(e.getMessage()), "kafka-config " + file});
        }
        return rows;
    }

    private static String show(OptionSpec option) {
        Object value = option.getValue();
        if (value == null) {
            return "(unset)";
        }
        // A file option names where a secret is, not the secret: show the path.
        Class<?> type = option.type();
        boolean path = Path.class.isAssignableFrom(type) || File.class.isAssignableFrom(type);
        boolean secretOption = !path && SecretMask.isSecret(option.longestName());
        List<String> parts = new ArrayList<>();
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> parts.add(k + "=" + (secretOption ? SecretMask.MASK : SecretMask.show(String.valueOf(k), String.valueOf(v)))));
        } else if (value instanceof Collection<?> c) {
            c.forEach(v -> parts.add(secretOption ? SecretMask.MASK : element(v)));
        } else if (value.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(value); i++) {
                parts.add(secretOption ? SecretMask.MASK : element(Array.get(value, i)));
            }
        } else if (value instanceof java.time.Duration d && !secretOption) {
            return DurationConverter.format(d);
        } else {
            return secretOption ? SecretMask.MASK : String.valueOf(value);
        }
        return parts.isEmpty() ? "(none)" : String.join(", ", parts);
    }

    /**
     * One value of a repeatable option: a text may be a KEY=VALUE pair whose value is a secret; a converted value
     * (a number, a regular expression such as {@code token=([a-z]+)}) is a rule, not a secret, and shown as is.
     */
    private static String element(Object v) {
        return v instanceof CharSequence ? SecretMask.showPair(String.valueOf(v)) : String.valueOf(v);
    }
}
