package dev.trafficbus.diff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a diff leaves out: header names (case-insensitive) and JSON paths of bodies.
 *
 * <p>Ignored by default are the headers that describe the connection or the message framing rather than the
 * response (RFC 9110 §7.6.1 hop-by-hop headers, plus Content-Length and Transfer-Encoding): the replayer's connections
 * and the de-chunked bodies of the responses topic make them differ by construction, and a real length difference
 * shows in the body comparison anyway. Everything else, Date included, is compared unless the user names it.
 */
public record ComparisonRules(Set<String> ignoredHeaders, List<JsonPath> ignoredJsonPaths) {
    /** Headers ignored unless --compare-all-headers is given. */
    public static final List<String> DEFAULT_IGNORED_HEADERS = List.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "content-length");

    public ComparisonRules {
        ignoredHeaders = Collections.unmodifiableSet(new TreeSet<>(ignoredHeaders));
        ignoredJsonPaths = List.copyOf(ignoredJsonPaths);
    }

    /**
     * Rules from the user's options; a bad JSON path throws IllegalArgumentException naming it.
     *
     * @param withDefaults also ignore {@link #DEFAULT_IGNORED_HEADERS}
     */
    public static ComparisonRules of(List<String> headers, List<String> jsonPaths, boolean withDefaults) {
        Set<String> names = new TreeSet<>();
        if (withDefaults) {
            names.addAll(DEFAULT_IGNORED_HEADERS);
        }
        for (String h : headers) {
            names.add(h.trim().toLowerCase(Locale.ROOT));
        }
        List<JsonPath> paths = new ArrayList<>();
        for (String p : jsonPaths) {
            try {
                paths.add(JsonPath.parse(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--ignore-json-path '" + p + "': " + e.getMessage(), e);
            }
        }
        return new ComparisonRules(names, paths);
    }

    boolean ignoresHeader(String name) {
        return ignoredHeaders.contains(name.toLowerCase(Locale.ROOT));
    }
}
