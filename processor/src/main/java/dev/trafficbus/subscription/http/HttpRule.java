package dev.trafficbus.subscription.http;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the first request of a session must look like for the session to be kept. Empty lists impose nothing;
 * URL and header patterns are searched ({@code find}), so anchor them with {@code ^} where meant.
 *
 * @param methods     allowed methods (upper case), empty: any
 * @param allowUrls   the target must match one of these, empty: any
 * @param denyUrls    the target must match none of these
 * @param allowHeaders one header line must match one of these, empty: any
 */
public record HttpRule(Set<String> methods, List<Pattern> allowUrls, List<Pattern> denyUrls,
                       List<Pattern> allowHeaders) {

    /** Reason the session is filtered out, or null to keep it; a null head means the client did not speak HTTP. */
    public String rejectReason(RequestHead head) {
        if (head == null) {
            return "http-not-http";
        }
        if (!methods.isEmpty() && !methods.contains(head.method())) {
            return "http-method";
        }
        if (!allowUrls.isEmpty() && allowUrls.stream().noneMatch(p -> p.matcher(head.target()).find())) {
            return "http-allow-url";
        }
        if (denyUrls.stream().anyMatch(p -> p.matcher(head.target()).find())) {
            return "http-deny-url";
        }
        if (!allowHeaders.isEmpty() && head.headers().stream()
                .noneMatch(h -> allowHeaders.stream().anyMatch(p -> p.matcher(h).find()))) {
            return "http-allow-header";
        }
        return null;
    }
}
