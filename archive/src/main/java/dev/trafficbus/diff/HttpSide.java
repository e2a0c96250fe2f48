package dev.trafficbus.diff;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * One response of a pair as the responses topic carries it: status, headers in received order, de-chunked body.
 *
 * @param latencyMicros request-to-response time of a replayed response, -1 when not given (production)
 */
public record HttpSide(int status, List<Header> headers, byte[] body, boolean bodyTruncated, long latencyMicros) {
    /** One header line as received; names compare case-insensitively. */
    public record Header(String name, String value) {
    }

    /** The side in {@code node}, or null when the node is JSON null or absent; malformed content throws IllegalArgumentException. */
    static HttpSide parse(JsonNode node, String side) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(side + " is not an object");
        }
        JsonNode status = node.get("status");
        if (status == null || !status.canConvertToInt()) {
            throw new IllegalArgumentException(side + ".status is missing or not a number");
        }
        List<Header> headers = new ArrayList<>();
        JsonNode hs = node.get("headers");
        if (hs != null && !hs.isNull()) {
            if (!hs.isArray()) {
                throw new IllegalArgumentException(side + ".headers is not an array of [name, value]");
            }
            for (JsonNode h : hs) {
                if (!h.isArray() || h.size() != 2 || !h.get(0).isTextual() || !h.get(1).isTextual()) {
                    throw new IllegalArgumentException(side + ".headers holds an entry that is not [name, value]");
                }
                headers.add(new Header(h.get(0).asText(), h.get(1).asText()));
            }
        }
        byte[] body = new byte[0];
        JsonNode b = node.get("bodyBase64");
        if (b != null && !b.isNull()) {
            try {
                body = Base64.getDecoder().decode(b.asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(side + ".bodyBase64 is not base64");
            }
        }
        JsonNode latency = node.get("latencyMicros");
        return new HttpSide(status.asInt(), List.copyOf(headers), body,
                node.path("bodyTruncated").asBoolean(false),
                latency != null && latency.canConvertToLong() ? latency.asLong() : -1);
    }
}
