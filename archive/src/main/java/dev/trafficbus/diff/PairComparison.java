package dev.trafficbus.diff;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Compares the replayed response of one record with the production one: status, headers (for HTTP/2 the
 * trailers too, gRPC's grpc-status among them), then body (with its gzip/deflate Content-Encoding undone): JSON
 * field by field, gRPC messages field by field on the protobuf wire format ({@link GrpcMessages}).
 */
public final class PairComparison {
    /** Kinds of result; every pair has exactly one. */
    public enum Outcome { EQUAL, DIFFERENT, MISSING_PRODUCTION, MISSING_REPLAY }

    /**
     * @param missingReason for {@link Outcome#MISSING_REPLAY}: the record's error, or {@code no-answer} when it gave none
     */
    public record Result(Outcome outcome, List<Difference> differences, String missingReason, Set<String> fields) {
        public Result {
            fields = Set.copyOf(fields);
        }

        /** A result whose differences are all listed: the fields are their groups. */
        public Result(Outcome outcome, List<Difference> differences, String missingReason) {
            this(outcome, differences, missingReason, groups(differences));
        }

        private static Set<String> groups(List<Difference> differences) {
            Set<String> s = new LinkedHashSet<>();
            differences.forEach(d -> s.add(d.group()));
            return s;
        }
    }

    /** Body differences listed per pair; more are only counted by field (the first ones tell the story). */
    static final int MAX_BODY_DIFFERENCES = 20;
    /**
     * Decimals parsed exactly: as doubles, 1e400 would be infinite (no value to compare) and 0.1 would equal
     * 0.10000000000000001. Trailing zeros stay so a number shows as the response wrote it.
     */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    private final ComparisonRules rules;
    private final JsonComparison json;

    public PairComparison(ComparisonRules rules) {
        this.rules = rules;
        this.json = new JsonComparison(rules.ignoredJsonPaths(), MAX_BODY_DIFFERENCES);
    }

    public Result compare(ResponseRecord r) {
        // No replayed response decides first: the replay failed whatever the capture holds.
        if (r.replayed() == null) {
            return new Result(Outcome.MISSING_REPLAY, List.of(), r.error() == null ? "no-answer" : r.error());
        }
        if (r.production() == null) {
            return new Result(Outcome.MISSING_PRODUCTION, List.of(), null);
        }
        List<Difference> diffs = new ArrayList<>();
        if (r.production().status() != r.replayed().status()) {
            diffs.add(Difference.of("status", String.valueOf(r.production().status()), String.valueOf(r.replayed().status())));
        }
        compareHeaders(r.production().headers(), r.replayed().headers(), diffs);
        Set<String> fields = new LinkedHashSet<>();
        diffs.forEach(d -> fields.add(d.group()));
        compareBodies(r.production(), r.replayed(), diffs, fields);
        return new Result(diffs.isEmpty() ? Outcome.EQUAL : Outcome.DIFFERENT, List.copyOf(diffs), null, fields);
    }

    private void compareHeaders(List<HttpSide.Header> production, List<HttpSide.Header> replayed, List<Difference> out) {
        Map<String, List<String>> p = byName(production);
        Map<String, List<String>> r = byName(replayed);
        Map<String, Boolean> names = new LinkedHashMap<>();
        p.keySet().forEach(n -> names.put(n, true));
        r.keySet().forEach(n -> names.put(n, true));
        for (String name : names.keySet()) {
            List<String> pv = p.get(name);
            List<String> rv = r.get(name);
            if (pv == null || rv == null || !sameField(name, pv, rv)) {
                out.add(Difference.of("header " + name, pv == null ? null : String.join(", ", pv),
                        rv == null ? null : String.join(", ", rv)));
            }
        }
    }

    /**
     * RFC 9110 §5.3: repeated field lines are one value joined by commas, so "Vary: a, b" equals "Vary: a" plus
     * "Vary: b". Set-Cookie is the exception its values' commas force: each line is one cookie.
     */
    private static boolean sameField(String name, List<String> production, List<String> replayed) {
        if (name.equals("set-cookie")) {
            return production.equals(replayed);
        }
        return String.join(", ", production).equals(String.join(", ", replayed));
    }

    private Map<String, List<String>> byName(List<HttpSide.Header> headers) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (HttpSide.Header h : headers) {
            if (!rules.ignoresHeader(h.name())) {
                m.computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.value());
            }
        }
        return m;
    }

    private void compareBodies(HttpSide production, HttpSide replayed, List<Difference> out, Set<String> fields) {
        if (Arrays.equals(production.body(), replayed.body())) {
            return;
        }
        ContentDecoding.Body pb = ContentDecoding.decode(production);
        ContentDecoding.Body rb = ContentDecoding.decode(replayed);
        byte[] p = pb.bytes();
        byte[] r = rb.bytes();
        if (Arrays.equals(p, r)) {
            return;
        }
        boolean grpc = GrpcMessages.isGrpc(production) || GrpcMessages.isGrpc(replayed);
        JsonNode pj = grpc ? GrpcMessages.read(p) : parseJson(p);
        JsonNode rj = pj == null ? null : grpc ? GrpcMessages.read(r) : parseJson(r);
        if (pj != null && rj != null) {
            JsonComparison.Result result = json.compare(pj, rj);
            out.addAll(result.shown());
            fields.addAll(result.fields());
            return;
        }
        int at = Arrays.mismatch(p, r);
        out.add(Difference.of("body", describe(pb, production.bodyTruncated(), at), describe(rb, replayed.bodyTruncated(), at)));
        fields.add("body");
    }

    /** The body as a JSON tree when it is a JSON object or array, else null. */
    private static JsonNode parseJson(byte[] body) {
        int i = 0;
        while (i < body.length && Character.isWhitespace(body[i])) {
            i++;
        }
        if (i == body.length || body[i] != '{' && body[i] != '[') {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** "120 bytes, from byte 17: \"...\"": the length and the text around the first difference. */
    private static String describe(ContentDecoding.Body decoded, boolean truncated, int at) {
        byte[] body = decoded.bytes();
        StringBuilder sb = new StringBuilder().append(body.length).append(" bytes");
        if (decoded.coding() != null) {
            sb.append(" (").append(decoded.coding()).append("-decoded)");
        }
        if (truncated) {
            sb.append(" (cut at the 1 MiB cap)");
        }
        if (at >= 0 && at < body.length) {
            int from = Math.max(0, at - 20);
            int to = Math.min(body.length, at + 40);
            String text = new String(body, from, to - from, StandardCharsets.UTF_8);
            StringBuilder shown = new StringBuilder();
            for (char c : text.toCharArray()) {
                shown.append(c >= 0x20 && c != 0x7F && c != '\uFFFD' ? c : '.');
            }
            sb.append(String.format(Locale.ROOT, ", first difference at byte %d: \"%s%s%s\"", at,
                    from > 0 ? "…" : "", shown, to < body.length ? "…" : ""));
        }
        return sb.toString();
    }
}
