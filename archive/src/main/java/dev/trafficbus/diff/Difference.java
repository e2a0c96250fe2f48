package dev.trafficbus.diff;

/**
 * One way a replayed response differs from the production one.
 *
 * @param field      what differs: {@code status}, {@code header <name>}, {@code body} (bytes) or {@code body <json path>}
 * @param group      the field with array indices as {@code [*]}: differences are counted per endpoint by it
 * @param production the production value, shortened for display ({@code (absent)} when missing)
 * @param replayed   the replayed value, likewise
 */
public record Difference(String field, String group, String production, String replayed) {
    /** Longest value kept for display: reports show examples, not whole bodies. */
    static final int MAX_VALUE_CHARS = 200;
    static final String ABSENT = "(absent)";

    static Difference of(String field, String production, String replayed) {
        return new Difference(field, field, shorten(production), shorten(replayed));
    }

    static String shorten(String s) {
        if (s == null) {
            return ABSENT;
        }
        return s.length() <= MAX_VALUE_CHARS ? s : s.substring(0, MAX_VALUE_CHARS) + "… (" + s.length() + " chars)";
    }

    /** "body $.price: production 10, replayed 11" */
    public String describe() {
        return field + ": production " + production + ", replayed " + replayed;
    }
}
