package dev.trafficbus.diff;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The comparison rules on hand-built responses (the end-to-end path is DiffTwoServersTest). */
class PairComparisonTest {
    private static HttpSide side(int status, String body, String... headers) {
        List<HttpSide.Header> hs = new java.util.ArrayList<>();
        for (int i = 0; i < headers.length; i += 2) {
            hs.add(new HttpSide.Header(headers[i], headers[i + 1]));
        }
        return new HttpSide(status, hs, body.getBytes(StandardCharsets.UTF_8), false, -1);
    }

    private static ResponseRecord pair(HttpSide production, HttpSide replayed, String error) {
        return new ResponseRecord("r", "s#0", 0, 0, "GET /x", "GET", "/x", replayed, production, error);
    }

    private static PairComparison.Result compare(HttpSide production, HttpSide replayed, String... jsonPaths) {
        return new PairComparison(ComparisonRules.of(List.of("Date"), List.of(jsonPaths), true))
                .compare(pair(production, replayed, null));
    }

    @Test
    void jsonBodiesCompareByStructureNotBytes() {
        PairComparison.Result r = compare(side(200, "{\"a\":1,\"b\":[1,2]}"), side(200, "{ \"b\": [1, 2.0], \"a\": 1.0 }"));
        assertThat(r.outcome()).isEqualTo(PairComparison.Outcome.EQUAL);
    }

    @Test
    void jsonDifferencesNameTheirPathIncludingMissingMembersAndElements() {
        PairComparison.Result r = compare(side(200, "{\"a\":1,\"items\":[{\"id\":1,\"p\":2}],\"gone\":true}"),
                side(200, "{\"a\":2,\"items\":[{\"id\":9,\"p\":2},{\"id\":3}]}"), "$.items[*].id");
        assertThat(r.outcome()).isEqualTo(PairComparison.Outcome.DIFFERENT);
        assertThat(r.differences()).extracting(Difference::describe).containsExactly(
                "body $.a: production 1, replayed 2",
                "body $.items[1]: production (absent), replayed {\"id\":3}",
                "body $.gone: production true, replayed (absent)");
        assertThat(r.differences().get(1).group()).isEqualTo("body $.items[*]");
    }

    @Test
    void headersCompareCaseInsensitivelyWithValuesInOrderAndIgnoresApplied() {
        PairComparison.Result r = compare(
                side(200, "", "Content-Type", "text/plain", "Date", "x", "Set-Cookie", "a=1", "Set-Cookie", "b=2",
                        "Connection", "close"),
                side(200, "", "content-type", "text/plain", "Date", "y", "set-cookie", "b=2", "set-cookie", "a=1",
                        "Content-Length", "0", "X-New", "1"));
        assertThat(r.differences()).extracting(Difference::describe).containsExactly(
                "header set-cookie: production a=1, b=2, replayed b=2, a=1",
                "header x-new: production (absent), replayed 1");
    }

    @Test
    void statusAndNonJsonBodiesShowWhereTheyDiffer() {
        PairComparison.Result r = compare(side(200, "hello world"), side(503, "hello there"));
        assertThat(r.differences()).extracting(Difference::describe).containsExactly(
                "status: production 200, replayed 503",
                "body: production 11 bytes, first difference at byte 6: \"hello world\","
                        + " replayed 11 bytes, first difference at byte 6: \"hello there\"");
    }

    @Test
    void aMissingReplayedResponseCountsByItsErrorBeforeAnythingElse() {
        PairComparison cmp = new PairComparison(ComparisonRules.of(List.of(), List.of(), true));
        assertThat(cmp.compare(pair(side(200, ""), null, "connect-failed")))
                .isEqualTo(new PairComparison.Result(PairComparison.Outcome.MISSING_REPLAY, List.of(), "connect-failed"));
        assertThat(cmp.compare(pair(null, null, null)).missingReason()).isEqualTo("no-answer");
        assertThat(cmp.compare(pair(null, side(200, ""), null)).outcome())
                .isEqualTo(PairComparison.Outcome.MISSING_PRODUCTION);
    }
}
