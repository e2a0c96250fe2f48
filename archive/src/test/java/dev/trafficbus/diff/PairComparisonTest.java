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

    @Test
    void jsonNumbersCompareByExactValueWhateverTheirSize() {
        // Valid JSON numbers beyond the range of a double, and ones a double would round to the same value.
        assertThat(compare(side(200, "{\"a\":1e400,\"b\":1}"), side(200, "{\"b\":1.0,\"a\":10E399}")).outcome())
                .isEqualTo(PairComparison.Outcome.EQUAL);
        assertThat(compare(side(200, "{\"a\":1e400}"), side(200, "{\"a\":2e400}")).differences())
                .extracting(Difference::describe).containsExactly("body $.a: production 1E+400, replayed 2E+400");
        assertThat(compare(side(200, "[0.1]"), side(200, "[0.10000000000000001]")).differences())
                .extracting(Difference::describe).containsExactly("body $[0]: production 0.1, replayed 0.10000000000000001");
        assertThat(compare(side(200, "{\"price\":10.0}"), side(200, "{\"price\":12.50}")).differences())
                .extracting(Difference::describe).containsExactly("body $.price: production 10.0, replayed 12.50");
        assertThat(compare(side(200, "[12345678901234567890123]"), side(200, "[1.2345678901234567890123e22]")).outcome())
                .isEqualTo(PairComparison.Outcome.EQUAL);
    }

    @Test
    void aHeaderSentAsOneLineOrAsRepeatedLinesIsTheSameField() {
        // RFC 9110 5.3: "Vary: a, b" and two lines "Vary: a" + "Vary: b" are one field value; a report that called
        // them different would show the same text on both sides.
        assertThat(compare(side(200, "", "Vary", "Accept-Encoding, Origin"),
                side(200, "", "vary", "Accept-Encoding", "Vary", "Origin")).outcome())
                .isEqualTo(PairComparison.Outcome.EQUAL);
        assertThat(compare(side(200, "", "Vary", "Accept-Encoding, Origin"), side(200, "", "Vary", "Origin, Accept-Encoding"))
                .differences()).extracting(Difference::describe)
                .containsExactly("header vary: production Accept-Encoding, Origin, replayed Origin, Accept-Encoding");
        // Set-Cookie is the exception (its values hold commas): each line is its own cookie.
        assertThat(compare(side(200, "", "Set-Cookie", "a=1, b=2"), side(200, "", "Set-Cookie", "a=1", "Set-Cookie", "b=2"))
                .outcome()).isEqualTo(PairComparison.Outcome.DIFFERENT);
    }

    private static HttpSide gzipped(String body, int level) throws java.io.IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes) {
            {
                def.setLevel(level);
            }
        }) {
            gz.write(body.getBytes(StandardCharsets.UTF_8));
        }
        return new HttpSide(200, List.of(new HttpSide.Header("Content-Encoding", "gzip")), bytes.toByteArray(), false, -1);
    }

    @Test
    void compressedBodiesCompareByWhatTheyHoldNotByTheirCompressedBytes() throws Exception {
        // The replayed request keeps the client's Accept-Encoding, so both servers may compress, each its own way.
        String doc = "{\"items\":[" + "{\"id\":1,\"name\":\"item\"},".repeat(50) + "{\"id\":2}],\"n\":1}";
        assertThat(compare(gzipped(doc, 9), gzipped(doc.replace("\"n\":1", "\"n\":1.0"), 1)).outcome())
                .isEqualTo(PairComparison.Outcome.EQUAL);
        assertThat(compare(gzipped("{\"price\":10}", 6), gzipped("{\"price\":12}", 6)).differences())
                .extracting(Difference::describe).containsExactly("body $.price: production 10, replayed 12");
        assertThat(compare(gzipped("hello world", 9), gzipped("hello there", 1)).differences())
                .extracting(Difference::describe).containsExactly(
                        "body: production 11 bytes (gzip-decoded), first difference at byte 6: \"hello world\","
                                + " replayed 11 bytes (gzip-decoded), first difference at byte 6: \"hello there\"");
    }

    @Test
    void everyDifferingFieldIsCountedEvenBeyondTheDifferencesShown() {
        StringBuilder production = new StringBuilder("{");
        StringBuilder replayed = new StringBuilder("{");
        for (int i = 0; i < 25; i++) {
            production.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":1");
            replayed.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":2");
        }
        ResponseRecord record = pair(side(200, production + "}"), side(200, replayed + "}"), null);
        PairComparison.Result r = new PairComparison(ComparisonRules.of(List.of(), List.of(), true)).compare(record);
        assertThat(r.differences()).hasSize(PairComparison.MAX_BODY_DIFFERENCES);

        DiffTally tally = new DiffTally(3);
        tally.add(record, r);
        // The per-field counts say which fields differ in how many pairs: all 25 fields, not the first 20.
        assertThat(tally.endpoints().get(0).differencesByField()).hasSize(25).containsEntry("body $.f24", 1L);
    }

    /** One gRPC message: field 1 a string, field 2 a varint, field 3 a nested message with field 1. */
    private static byte[] grpc(String text, int number, int nested) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream m = new java.io.ByteArrayOutputStream();
        m.write(0x0a);
        m.write(t.length);
        m.writeBytes(t);
        m.write(0x10);
        m.write(number);
        m.writeBytes(new byte[] {0x1a, 2, 0x08, (byte) nested});
        byte[] msg = m.toByteArray();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(new byte[] {0, 0, 0, 0, (byte) msg.length});
        out.writeBytes(msg);
        return out.toByteArray();
    }

    private static HttpSide grpcSide(String grpcStatus, byte[]... messages) {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        for (byte[] m : messages) {
            body.writeBytes(m);
        }
        return new HttpSide(200, List.of(new HttpSide.Header("content-type", "application/grpc"),
                new HttpSide.Header("grpc-status", grpcStatus)), body.toByteArray(), false, -1);
    }

    @Test
    void grpcMessagesCompareFieldByFieldOnTheWireFormatAndGrpcStatusAsAHeader() {
        PairComparison.Result same = compare(grpcSide("0", grpc("tick", 3, 1), grpc("tick", 2, 1)),
                grpcSide("0", grpc("tick", 3, 1), grpc("tick", 2, 1)));
        assertThat(same.outcome()).isEqualTo(PairComparison.Outcome.EQUAL);
        PairComparison.Result r = compare(grpcSide("0", grpc("tick", 3, 1), grpc("tick", 2, 1)),
                grpcSide("5", grpc("tock", 3, 1), grpc("tick", 2, 7)));
        assertThat(r.outcome()).isEqualTo(PairComparison.Outcome.DIFFERENT);
        assertThat(r.differences()).extracting(Difference::describe).containsExactly(
                "header grpc-status: production 0, replayed 5",
                "body $[0]['1']: production \"tick\", replayed \"tock\"",
                "body $[1]['3']['1']: production 1, replayed 7");
    }
}
