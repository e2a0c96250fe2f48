package dev.trafficbus.subscription;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trafficbus.access.Principals;
import dev.trafficbus.bus.Topics;
import dev.trafficbus.redact.RedactionRules;
import dev.trafficbus.subscription.http.HttpRule;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads subscriptions from YAML or JSON text (one mapping or a list of them) and validates every field.
 * Errors are {@link InvalidSubscriptionException}s whose message names the subscription and the field, e.g.
 * {@code subscription team-a: sample: 150% is above 100%}.
 */
public final class SubscriptionParser {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP = Set.of("name", "sources", "filter", "sample", "amplify", "rate", "redact",
            "readers");
    private static final Set<String> FILTER = Set.of("server-ports", "client-cidrs", "http");
    private static final Set<String> HTTP = Set.of("methods", "allow-url", "deny-url", "allow-header");
    private static final Set<String> REDACT = Set.of("headers", "patterns");
    private static final Pattern PERCENT = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*%?\\s*");
    private static final Pattern RATE = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(?:sessions?\\s*/\\s*s(?:ec(?:ond)?)?)?\\s*");
    /** Most copies one subscription may ask for: more would flood the bus from one rule typo. */
    public static final int MAX_AMPLIFY = 1000;

    private SubscriptionParser() {
    }

    /** Thrown for text that is not a valid subscription; the message is meant for the user as is. */
    public static final class InvalidSubscriptionException extends IllegalArgumentException {
        public InvalidSubscriptionException(String message) {
            super(message);
        }
    }

    /** Parses every subscription in {@code text} (YAML or JSON); names must be unique within the text. */
    public static List<Subscription> parseAll(String text) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidSubscriptionException("not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        List<JsonNode> items = new ArrayList<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new InvalidSubscriptionException("no subscription in the text");
        } else if (root.isArray()) {
            root.forEach(items::add);
        } else if (root.isObject() && root.has("subscriptions") && root.size() == 1) {
            root.get("subscriptions").forEach(items::add);
        } else {
            items.add(root);
        }
        List<Subscription> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < items.size(); i++) {
            Subscription s = parse(items.get(i), "#" + (i + 1));
            if (!names.add(s.name())) {
                throw new InvalidSubscriptionException("subscription " + s.name() + ": name: given twice");
            }
            out.add(s);
        }
        if (out.isEmpty()) {
            throw new InvalidSubscriptionException("no subscription in the text");
        }
        return out;
    }

    /** Parses exactly one subscription (the stored form in {@code tb.subscriptions}). */
    public static Subscription parseOne(String text) {
        List<Subscription> all = parseAll(text);
        if (all.size() != 1) {
            throw new InvalidSubscriptionException("expected one subscription, found " + all.size());
        }
        return all.get(0);
    }

    private static Subscription parse(JsonNode node, String position) {
        if (!node.isObject()) {
            throw new InvalidSubscriptionException("subscription " + position + ": expected a mapping with name, sources, ...");
        }
        JsonNode nameNode = node.get("name");
        String label = nameNode != null && nameNode.isTextual() ? nameNode.asText() : position;
        Errors err = new Errors("subscription " + label + ": ");
        err.unknownFields(node, TOP, "");
        if (nameNode == null || !nameNode.isTextual() || nameNode.asText().isBlank()) {
            throw err.at("name", "missing; give the subscription a name (it names the topic tb.sub.<name>)");
        }
        String name = nameNode.asText();
        try {
            Topics.checkId("name", name);
        } catch (IllegalArgumentException e) {
            throw err.at("name", "'" + name + "' is not valid: use 1-200 characters from letters, digits, '.', '_' and '-'");
        }
        Set<String> sources = new LinkedHashSet<>(strings(node.get("sources"), err, "sources"));
        if (sources.isEmpty()) {
            throw err.at("sources", "missing; list the source ids to read, e.g. sources: [web1]");
        }
        for (String s : sources) {
            try {
                Topics.checkId("source", s);
            } catch (IllegalArgumentException e) {
                throw err.at("sources", e.getMessage());
            }
        }
        Set<Integer> ports = new LinkedHashSet<>();
        List<ClientCidr> cidrs = new ArrayList<>();
        HttpRule http = null;
        JsonNode filter = node.get("filter");
        if (filter != null && !filter.isNull()) {
            if (!filter.isObject()) {
                throw err.at("filter", "expected a mapping of server-ports, client-cidrs, http");
            }
            err.unknownFields(filter, FILTER, "filter.");
            JsonNode p = filter.get("server-ports");
            if (p != null && !p.isNull()) {
                for (JsonNode v : p.isArray() ? p : JSON.createArrayNode().add(p)) {
                    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1 || v.asInt() > 65535) {
                        throw err.at("filter.server-ports", "'" + v.asText() + "' is not a port (1-65535)");
                    }
                    ports.add(v.asInt());
                }
            }
            for (String c : strings(filter.get("client-cidrs"), err, "filter.client-cidrs")) {
                try {
                    cidrs.add(ClientCidr.parse(c));
                } catch (IllegalArgumentException e) {
                    throw err.at("filter.client-cidrs", e.getMessage());
                }
            }
            JsonNode h = filter.get("http");
            if (h != null && !h.isNull()) {
                http = http(h, err);
            }
        }
        double sample = percent(node.get("sample"), err);
        int amplify = 1;
        JsonNode a = node.get("amplify");
        if (a != null && !a.isNull()) {
            if (!a.isIntegralNumber() || a.asLong() < 1 || a.asLong() > MAX_AMPLIFY) {
                throw err.at("amplify", "'" + a.asText() + "' is not a whole number of copies from 1 to " + MAX_AMPLIFY);
            }
            amplify = a.asInt();
        }
        double rate = 0;
        JsonNode r = node.get("rate");
        if (r != null && !r.isNull()) {
            Matcher m = RATE.matcher(r.asText());
            if (!m.matches() || Double.parseDouble(m.group(1)) <= 0) {
                throw err.at("rate", "'" + r.asText() + "' is not a rate such as '200 sessions/s'");
            }
            rate = Double.parseDouble(m.group(1));
        }
        RedactionRules redaction = RedactionRules.NONE;
        JsonNode red = node.get("redact");
        if (red != null && !red.isNull()) {
            if (!red.isObject()) {
                throw err.at("redact", "expected a mapping of headers, patterns");
            }
            err.unknownFields(red, REDACT, "redact.");
            List<String> headers = strings(red.get("headers"), err, "redact.headers");
            for (String hd : headers) {
                if (!RedactionRules.isHeaderName(hd)) {
                    throw err.at("redact.headers", "'" + hd + "' is not an HTTP header name");
                }
            }
            List<Pattern> patterns = regexes(red.get("patterns"), err, "redact.patterns", 0);
            try {
                redaction = new RedactionRules(headers, patterns);
            } catch (IllegalArgumentException e) {
                throw err.at("redact.headers", e.getMessage());
            }
        }
        Set<String> readers = new LinkedHashSet<>();
        for (String reader : strings(node.get("readers"), err, "readers")) {
            try {
                readers.add(Principals.normalize(reader));
            } catch (IllegalArgumentException e) {
                throw err.at("readers", e.getMessage());
            }
        }
        return new Subscription(name, Set.copyOf(sources), Set.copyOf(ports), List.copyOf(cidrs), http, sample,
                amplify, rate, redaction, canonical(node), Set.copyOf(readers));
    }

    private static HttpRule http(JsonNode h, Errors err) {
        if (!h.isObject()) {
            throw err.at("filter.http", "expected a mapping of methods, allow-url, deny-url, allow-header");
        }
        err.unknownFields(h, HTTP, "filter.http.");
        Set<String> methods = new LinkedHashSet<>();
        for (String m : strings(h.get("methods"), err, "filter.http.methods")) {
            if (!m.matches("[A-Za-z]+")) {
                throw err.at("filter.http.methods", "'" + m + "' is not an HTTP method");
            }
            methods.add(m.toUpperCase(Locale.ROOT));
        }
        return new HttpRule(Set.copyOf(methods), regexes(h.get("allow-url"), err, "filter.http.allow-url", 0),
                regexes(h.get("deny-url"), err, "filter.http.deny-url", 0),
                regexes(h.get("allow-header"), err, "filter.http.allow-header", 0));
    }

    private static double percent(JsonNode node, Errors err) {
        if (node == null || node.isNull()) {
            return 100.0;
        }
        Matcher m = PERCENT.matcher(node.asText());
        if (!m.matches()) {
            throw err.at("sample", "'" + node.asText() + "' is not a percentage such as 25%");
        }
        double v = Double.parseDouble(m.group(1));
        if (v > 100.0) {
            throw err.at("sample", m.group(1) + "% is above 100%");
        }
        return v;
    }

    private static List<Pattern> regexes(JsonNode node, Errors err, String field, int flags) {
        List<Pattern> out = new ArrayList<>();
        for (String s : strings(node, err, field)) {
            try {
                out.add(Pattern.compile(s, flags));
            } catch (PatternSyntaxException e) {
                throw err.at(field, "'" + s + "' is not a valid regular expression: " + e.getDescription()
                        + " near index " + e.getIndex());
            }
        }
        return out;
    }

    private static List<String> strings(JsonNode node, Errors err, String field) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        for (JsonNode v : node.isArray() ? node : JSON.createArrayNode().add(node)) {
            if (!v.isValueNode() || v.isNull() || v.asText().isEmpty()) {
                throw err.at(field, "expected a list of text values");
            }
            out.add(v.asText());
        }
        return out;
    }

    private static String canonical(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed tree could not be written as JSON", e);
        }
    }

    /** Builds messages that name the subscription and the field. */
    private record Errors(String prefix) {
        InvalidSubscriptionException at(String field, String what) {
            return new InvalidSubscriptionException(prefix + field + ": " + what);
        }

        void unknownFields(JsonNode node, Set<String> known, String path) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                String f = it.next().getKey();
                if (!known.contains(f)) {
                    throw new InvalidSubscriptionException(prefix + path + f + ": unknown field (known: "
                            + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }
    }
}
