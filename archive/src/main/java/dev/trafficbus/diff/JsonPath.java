package dev.trafficbus.diff;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A JSON path pattern for --ignore-json-path: {@code $} then {@code .name}, {@code ['name']}, {@code .*} (any field),
 * {@code [n]}, {@code [*]} (any element) and {@code ..name} (that field at any depth). A pattern matches a node's
 * concrete path exactly; an ignored node is skipped with everything under it.
 */
public final class JsonPath {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$-]*");

    private enum Kind { FIELD, ANY_FIELD, INDEX, ANY_INDEX, DESCENT }

    private record Segment(Kind kind, String name, int index) {
    }

    private final String text;
    private final List<Segment> segments;

    private JsonPath(String text, List<Segment> segments) {
        this.text = text;
        this.segments = segments;
    }

    /** Parses a pattern; throws IllegalArgumentException naming the position of the problem. */
    public static JsonPath parse(String text) {
        String t = text == null ? "" : text.trim();
        if (!t.startsWith("$")) {
            throw new IllegalArgumentException("must start with $, e.g. $.requestId or $.items[*].id");
        }
        List<Segment> segs = new ArrayList<>();
        int i = 1;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (t.startsWith("..", i)) {
                int end = nameEnd(t, i + 2);
                String name = t.substring(i + 2, end);
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("a field name must follow '..' at position " + i);
                }
                segs.add(new Segment(Kind.DESCENT, name, -1));
                i = end;
            } else if (c == '.') {
                int end = nameEnd(t, i + 1);
                String name = t.substring(i + 1, end);
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("a field name must follow '.' at position " + i);
                }
                segs.add(name.equals("*") ? new Segment(Kind.ANY_FIELD, null, -1) : new Segment(Kind.FIELD, name, -1));
                i = end;
            } else if (c == '[') {
                int close = t.indexOf(']', i);
                if (close < 0) {
                    throw new IllegalArgumentException("'[' at position " + i + " is not closed");
                }
                String inner = t.substring(i + 1, close).trim();
                if (inner.equals("*")) {
                    segs.add(new Segment(Kind.ANY_INDEX, null, -1));
                } else if (inner.length() >= 2 && (inner.startsWith("'") && inner.endsWith("'")
                        || inner.startsWith("\"") && inner.endsWith("\""))) {
                    segs.add(new Segment(Kind.FIELD, inner.substring(1, inner.length() - 1), -1));
                } else {
                    try {
                        int n = Integer.parseInt(inner);
                        if (n < 0) {
                            throw new NumberFormatException();
                        }
                        segs.add(new Segment(Kind.INDEX, null, n));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("'[" + inner + "]' is not [n], [*] or ['name']");
                    }
                }
                i = close + 1;
            } else {
                throw new IllegalArgumentException("unexpected '" + c + "' at position " + i);
            }
        }
        return new JsonPath(t, List.copyOf(segs));
    }

    private static int nameEnd(String t, int from) {
        int i = from;
        while (i < t.length() && t.charAt(i) != '.' && t.charAt(i) != '[') {
            i++;
        }
        return i;
    }

    /** True when the pattern names the node at {@code path} (field names are Strings, array indices Integers). */
    public boolean matches(List<Object> path) {
        return match(0, path, 0);
    }

    private boolean match(int si, List<Object> path, int pi) {
        if (si == segments.size()) {
            return pi == path.size();
        }
        Segment s = segments.get(si);
        if (s.kind() == Kind.DESCENT) {
            for (int k = pi; k < path.size(); k++) {
                if (s.name().equals("*") ? path.get(k) instanceof String : s.name().equals(path.get(k))) {
                    if (match(si + 1, path, k + 1)) {
                        return true;
                    }
                }
            }
            return false;
        }
        if (pi >= path.size()) {
            return false;
        }
        Object p = path.get(pi);
        boolean ok = switch (s.kind()) {
            case FIELD -> s.name().equals(p);
            case ANY_FIELD -> p instanceof String;
            case INDEX -> p instanceof Integer n && n == s.index();
            case ANY_INDEX -> p instanceof Integer;
            default -> false;
        };
        return ok && match(si + 1, path, pi + 1);
    }

    /** The path as text, e.g. {@code $.items[2].price}; with {@code anyIndex} every index shows as {@code [*]}. */
    public static String render(List<Object> path, boolean anyIndex) {
        StringBuilder sb = new StringBuilder("$");
        for (Object p : path) {
            if (p instanceof Integer n) {
                sb.append('[').append(anyIndex ? "*" : n.toString()).append(']');
            } else if (IDENTIFIER.matcher((String) p).matches()) {
                sb.append('.').append(p);
            } else {
                sb.append("['").append(p).append("']");
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return text;
    }
}
