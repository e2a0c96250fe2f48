package dev.trafficbus.redact;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What to mask in TCP payloads: the values of named HTTP/1 header lines (case-insensitive) and the matches of
 * byte patterns (on Latin-1 text, one char per byte; the first group when the pattern has one, else the whole
 * match). Immutable and thread-safe; the masking itself is done by a {@link PayloadRedactor} per thread.
 * Rules are numbered headers first, then patterns: {@link #label(int)} names rule {@code i} in counters.
 */
public final class RedactionRules {
    // First: the constants below are built with it.
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** The header values the forwarder masks unless told otherwise: credentials and session cookies. */
    public static final List<String> DEFAULT_HEADERS =
            List.of("Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie");
    /** Masks nothing. */
    public static final RedactionRules NONE = new RedactionRules(List.of(), List.of());
    /** Masks the values of {@link #DEFAULT_HEADERS}. */
    public static final RedactionRules DEFAULTS = new RedactionRules(DEFAULT_HEADERS, List.of());
    /** Most header rules one set holds (the header scan keeps its candidates in an int). */
    public static final int MAX_HEADERS = 32;
    /** Longest header name a rule may name. */
    public static final int MAX_NAME_LENGTH = 128;

    private final List<String> headers;
    private final List<Pattern> patterns;
    private final HeaderTable table;

    /**
     * Header names (HTTP tokens, compared case-insensitively; duplicates ignored) and patterns. Throws
     * {@link IllegalArgumentException} for a name that is not an HTTP token, is too long, or too many names.
     */
    public RedactionRules(List<String> headers, List<Pattern> patterns) {
        List<String> unique = new ArrayList<>();
        List<String> lower = new ArrayList<>();
        for (String h : headers) {
            if (!isHeaderName(h)) {
                throw new IllegalArgumentException("'" + h + "' is not an HTTP header name");
            }
            if (h.length() > MAX_NAME_LENGTH) {
                throw new IllegalArgumentException("header name '" + h + "' is longer than " + MAX_NAME_LENGTH);
            }
            if (!lower.contains(h.toLowerCase(Locale.ROOT))) {
                lower.add(h.toLowerCase(Locale.ROOT));
                unique.add(h);
            }
        }
        if (unique.size() > MAX_HEADERS) {
            throw new IllegalArgumentException(unique.size() + " header names; at most " + MAX_HEADERS);
        }
        this.headers = List.copyOf(unique);
        this.patterns = List.copyOf(patterns);
        this.table = new HeaderTable(lower);
    }

    /** True for an HTTP header name (an RFC 9110 token). */
    public static boolean isHeaderName(String name) {
        return name != null && TOKEN.matcher(name).matches();
    }

    /** True when nothing is masked. */
    public boolean isEmpty() {
        return headers.isEmpty() && patterns.isEmpty();
    }

    /** The header names, as given (first spelling of each). */
    public List<String> headers() {
        return headers;
    }

    public List<Pattern> patterns() {
        return patterns;
    }

    /** Header rules plus pattern rules. */
    public int ruleCount() {
        return headers.size() + patterns.size();
    }

    /** The name of rule {@code i} in counters: {@code header:<name>} or {@code pattern:<regex>}. */
    public String label(int i) {
        return i < headers.size() ? "header:" + headers.get(i) : "pattern:" + patterns.get(i - headers.size()).pattern();
    }

    /** One line for start-up logs: which values are masked (patterns are rules, not secrets). */
    public String describe() {
        if (isEmpty()) {
            return "nothing";
        }
        StringBuilder sb = new StringBuilder();
        if (!headers.isEmpty()) {
            sb.append("values of headers ").append(String.join(", ", headers));
        }
        if (!patterns.isEmpty()) {
            sb.append(sb.length() == 0 ? "" : "; ").append("matches of patterns ");
            for (int i = 0; i < patterns.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append('\'').append(patterns.get(i).pattern()).append('\'');
            }
        }
        return sb.toString();
    }

    HeaderTable table() {
        return table;
    }

    @Override
    public String toString() {
        return describe();
    }
}
