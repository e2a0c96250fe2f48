package dev.trafficbus.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code --config} file: YAML whose keys are a command's long option names without the dashes
 * ({@code bootstrap-servers: kafka:9092}); a list gives a repeatable option several values, a map gives a
 * KEY=VALUE option ({@code kafka-property: {compression.type: zstd}}) one value per entry.
 */
public final class ConfigFile {
    private final Path path;
    private final Map<String, List<String>> values;

    private ConfigFile(Path path, Map<String, List<String>> values) {
        this.path = path;
        this.values = values;
    }

    /** Reads {@code path}; a missing or malformed file is a user error naming it. */
    public static ConfigFile read(Path path) {
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(path));
        } catch (NoSuchFileException e) {
            throw new UserInputException("--config " + path + ": no such file", e);
        } catch (JacksonException e) {
            throw new UserInputException("--config " + path + ": not valid YAML: " + e.getOriginalMessage().replaceAll("\\s+", " ")
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        } catch (IOException e) {
            throw new UserInputException("--config " + path + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new ConfigFile(path, values); // an empty file sets nothing
        }
        if (!root.isObject()) {
            throw new UserInputException("--config " + path + ": expected 'option-name: value' lines, e.g. "
                    + "'bootstrap-servers: kafka:9092'");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            List<String> list = flatten(path, field.getKey(), field.getValue());
            if (list != null) {
                values.put(field.getKey(), list);
            }
        }
        return new ConfigFile(path, values);
    }

    private static List<String> flatten(Path path, String key, JsonNode node) {
        if (node.isNull()) {
            return null; // "key:" with nothing after it leaves the option unset
        }
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            for (JsonNode item : node) {
                if (!item.isValueNode()) {
                    throw new UserInputException("--config " + path + ": key '" + key + "' lists something that is not a plain value");
                }
                out.add(item.asText());
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isValueNode()) {
                    throw new UserInputException("--config " + path + ": key '" + key + "." + e.getKey() + "' must be a plain value");
                }
                out.add(e.getKey() + "=" + e.getValue().asText());
            }
        } else {
            out.add(node.asText());
        }
        return out;
    }

    /** The file as given. */
    public Path path() {
        return path;
    }

    /** Option name (without dashes) → its values in file order; scalars are one-element lists. */
    public Map<String, List<String>> values() {
        return Collections.unmodifiableMap(values);
    }
}
