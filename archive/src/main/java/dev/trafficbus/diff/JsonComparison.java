package dev.trafficbus.diff;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Structural comparison of two JSON documents: object members by name in any order, array elements by position,
 * numbers by value (1 equals 1.0), with ignored paths skipped together with everything under them.
 */
final class JsonComparison {
    /** The differences of one document: the first ones in full, and the field group of every one. */
    record Result(List<Difference> shown, Set<String> fields) {
    }

    private final List<JsonPath> ignored;
    private final int limit;
    private final List<Difference> out = new ArrayList<>();
    private final Set<String> fields = new LinkedHashSet<>();

    /** @param limit differences kept per document; the rest are only counted by field (one pair never floods a report) */
    JsonComparison(List<JsonPath> ignored, int limit) {
        this.ignored = ignored;
        this.limit = limit;
    }

    Result compare(JsonNode production, JsonNode replayed) {
        out.clear();
        fields.clear();
        walk(production, replayed, new ArrayList<>());
        return new Result(List.copyOf(out), Set.copyOf(fields));
    }

    private void walk(JsonNode p, JsonNode r, List<Object> path) {
        if (isIgnored(path)) {
            return;
        }
        if (p == null || r == null) {
            add(path, p, r);
        } else if (p.isObject() && r.isObject()) {
            Set<String> names = new LinkedHashSet<>();
            p.fieldNames().forEachRemaining(names::add);
            r.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                path.add(name);
                walk(p.get(name), r.get(name), path);
                path.remove(path.size() - 1);
            }
        } else if (p.isArray() && r.isArray()) {
            int n = Math.max(p.size(), r.size());
            for (int i = 0; i < n; i++) {
                path.add(i);
                walk(p.get(i), r.get(i), path);
                path.remove(path.size() - 1);
            }
        } else if (!sameValue(p, r)) {
            add(path, p, r);
        }
    }

    private static boolean sameValue(JsonNode p, JsonNode r) {
        if (p.isNumber() && r.isNumber()) {
            return p.decimalValue().compareTo(r.decimalValue()) == 0;
        }
        return p.equals(r);
    }

    private boolean isIgnored(List<Object> path) {
        for (JsonPath j : ignored) {
            if (j.matches(path)) {
                return true;
            }
        }
        return false;
    }

    private void add(List<Object> path, JsonNode p, JsonNode r) {
        fields.add("body " + JsonPath.render(path, true));
        if (out.size() >= limit) {
            return;
        }
        out.add(new Difference("body " + JsonPath.render(path, false), "body " + JsonPath.render(path, true),
                Difference.shorten(p == null ? null : p.toString()), Difference.shorten(r == null ? null : r.toString())));
    }
}
