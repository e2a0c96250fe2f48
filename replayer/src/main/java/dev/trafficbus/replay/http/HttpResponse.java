package dev.trafficbus.replay.http;

import java.util.List;

/**
 * One HTTP/1.x response read from a stream.
 *
 * @param status        status code
 * @param headers       header name, value pairs in order
 * @param body          de-chunked body, at most {@link HttpResponseStream#MAX_BODY} bytes
 * @param bodyTruncated the body was longer than that and was cut
 * @param completeNanos {@link System#nanoTime} when its last byte was read
 */
public record HttpResponse(int status, List<String[]> headers, byte[] body, boolean bodyTruncated,
                           long completeNanos) {
}
