package dev.trafficbus.diff;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One record of a responses topic (tb.responses.&lt;run&gt;): a replayed request with the replayed and the production
 * response. The format is described in docs/archive.md.
 *
 * @param replayed   null when the replay got no answer ({@code error} says why)
 * @param production null when the capture holds no response for the request
 */
public record ResponseRecord(String run, String session, int index, long capturedAtMicros, String endpoint,
                             String method, String url, HttpSide replayed, HttpSide production, String error) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses a record value; throws IllegalArgumentException naming what is wrong. */
    public static ResponseRecord parse(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("empty value");
        }
        JsonNode root;
        try {
            root = JSON.readTree(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON");
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("unreadable: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        String session = text(root, "session");
        if (session == null) {
            throw new IllegalArgumentException("no session");
        }
        JsonNode index = root.get("index");
        if (index == null || !index.canConvertToInt()) {
            throw new IllegalArgumentException("no request index");
        }
        JsonNode request = root.path("request");
        String method = text(request, "method");
        String url = text(request, "url");
        String endpoint = text(root, "endpoint");
        if (endpoint == null) {
            endpoint = (method == null ? "?" : method) + " " + pathOf(url);
        }
        return new ResponseRecord(text(root, "run"), session, index.asInt(), root.path("capturedAtMicros").asLong(0),
                endpoint, method, url, HttpSide.parse(root.get("replayed"), "replayed"),
                HttpSide.parse(root.get("production"), "production"), text(root, "error"));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String pathOf(String url) {
        if (url == null) {
            return "?";
        }
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }
}
