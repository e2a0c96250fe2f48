package dev.trafficbus.subscription.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The head of the first HTTP request of a session: request line and header lines, as Latin-1 text so each
 * byte stays one character.
 *
 * @param method  e.g. GET
 * @param target  the request target, e.g. /api/items?page=1
 * @param headers header lines as sent, e.g. {@code User-Agent: curl/8.0}
 */
public record RequestHead(String method, String target, List<String> headers) {
    private static final byte[] END = {'\r', '\n', '\r', '\n'};

    /** Index just past the {@code \r\n\r\n} that ends a head in {@code stream[0, len)}, or -1. */
    public static int headEnd(byte[] stream, int len) {
        outer:
        for (int i = 0; i + 4 <= len; i++) {
            for (int j = 0; j < 4; j++) {
                if (stream[i + j] != END[j]) {
                    continue outer;
                }
            }
            return i + 4;
        }
        return -1;
    }

    /** Parses a complete head ({@code stream[0, end)}), or returns null when it is not an HTTP/1 request. */
    public static RequestHead parse(byte[] stream, int end) {
        String text = new String(stream, 0, end, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n");
        if (lines.length == 0) {
            return null;
        }
        String[] first = lines[0].split(" ");
        if (first.length != 3 || !first[2].startsWith("HTTP/") || first[0].isEmpty()) {
            return null;
        }
        List<String> headers = new ArrayList<>(lines.length);
        for (int i = 1; i < lines.length; i++) {
            if (!lines[i].isEmpty()) {
                headers.add(lines[i]);
            }
        }
        return new RequestHead(first[0], first[1], headers);
    }
}
