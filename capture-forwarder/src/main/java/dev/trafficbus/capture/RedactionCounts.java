package dev.trafficbus.capture;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the forwarder's redaction did in one run, for the summary line.
 *
 * @param fieldsByRule fields masked per rule, by rule label ({@code header:Cookie}, {@code pattern:...}), in rule order
 * @param unchecked    segments or heads that could not be checked completely ({@code redaction-unchecked})
 */
public record RedactionCounts(Map<String, Long> fieldsByRule, long unchecked) {
    /** The name of the unchecked counter in summaries and metrics. */
    public static final String UNCHECKED = "redaction-unchecked";
    /** Nothing masked, nothing unchecked. */
    public static final RedactionCounts NONE = new RedactionCounts(Map.of(), 0);

    public RedactionCounts {
        fieldsByRule = Collections.unmodifiableMap(new LinkedHashMap<>(fieldsByRule));
    }

    static RedactionCounts of(FlowRedaction redaction) {
        return new RedactionCounts(redaction.fieldsByRule(), redaction.unchecked());
    }

    /** Fields masked by all rules. */
    public long fields() {
        return fieldsByRule.values().stream().mapToLong(Long::longValue).sum();
    }

    /** "; redacted: header:Cookie 10, ..." and "; redaction-unchecked N" for what is not zero; else empty. */
    public String line() {
        StringBuilder sb = new StringBuilder();
        appendTo(sb);
        return sb.toString();
    }

    /** Appends {@link #line()}. */
    void appendTo(StringBuilder sb) {
        String separator = "; redacted: ";
        for (Map.Entry<String, Long> e : fieldsByRule.entrySet()) {
            if (e.getValue() > 0) {
                sb.append(separator).append(e.getKey()).append(' ').append(e.getValue());
                separator = ", ";
            }
        }
        if (unchecked > 0) {
            sb.append("; ").append(UNCHECKED).append(' ').append(unchecked);
        }
    }
}
