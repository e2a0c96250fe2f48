package dev.trafficbus.replay.http;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.Http2Reader;
import dev.trafficbus.replay.middleware.Middleware;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTP side of one replayed session: rewrites its requests, reads the target's responses and, when
 * recording, the production responses from the capture, and pairs them by order (HTTP/1.x answers in
 * request order, also when pipelined). Runs on the session's event loop.
 */
public final class HttpExchanges implements HttpRequestStream.Listener, Http2RequestStream.Listener {
    /** One request as sent, with when it was captured and sent. */
    public static final class Request {
        public final String method;
        public final String url;
        public final List<String[]> headers;
        public final long capturedAtMicros;
        final ByteArrayOutputStream body;
        boolean bodyTruncated;
        long sentNanos = -1;

        Request(String method, String url, List<String[]> headers, long capturedAtMicros, boolean keepBody) {
            this.method = method;
            this.url = url;
            this.headers = headers;
            this.capturedAtMicros = capturedAtMicros;
            this.body = keepBody ? new ByteArrayOutputStream() : null;
        }

        /** The body as sent (de-chunked, capped), or empty when bodies are not kept. */
        public byte[] body() {
            return body == null ? new byte[0] : body.toByteArray();
        }

        /** The body was longer than {@link HttpResponseStream#MAX_BODY}. */
        public boolean bodyTruncated() {
            return bodyTruncated;
        }

        /** {@link System#nanoTime} when the message holding the request was written, or -1. */
        public long sentNanos() {
            return sentNanos;
        }
    }

    private final HttpRequestStream stream;
    private final HttpRewriteRules rules;
    /** The client's HTTP/2 frames, from its preface (prior knowledge, or after an Upgrade: h2c); else null. */
    private Http2RequestStream h2;
    private final boolean record;
    private int sentRequests;
    private final List<Request> requests = new ArrayList<>();
    private final List<HttpResponse> replayed = new ArrayList<>();
    private final List<HttpResponse> production = new ArrayList<>();
    private final HttpResponseStream replayedStream;
    private final HttpResponseStream productionStream;
    private long messageTsMicros;
    private final Middleware middleware;
    // HTTP/2: answers read per stream, placed at their request's index.
    private Http2ResponseStream replayedH2;
    private Http2ResponseStream productionH2;
    private final java.util.Map<Integer, Integer> streamIndex = new java.util.HashMap<>();
    /** Production answers read from the capture before the replay reached their request. */
    private final java.util.Map<Integer, HttpResponse> productionAhead = new java.util.HashMap<>();
    /** Answer bytes (replayed, production) that came before the first request told the protocol. */
    private ByteArrayOutputStream earlyReplayed = new ByteArrayOutputStream();
    private ByteArrayOutputStream earlyProduction;
    private static final int MAX_EARLY = 64 * 1024;

    /**
     * @param rules      rewrites to apply
     * @param record     keep bodies and production responses for response records
     * @param middleware the program each request goes through before the rewrites, or null
     */
    public HttpExchanges(HttpRewriteRules rules, boolean record, Middleware middleware) {
        this.middleware = middleware;
        this.stream = new HttpRequestStream(rules, this);
        this.rules = rules;
        this.record = record;
        this.replayedStream = new HttpResponseStream(this::methodOf, this::onReplayed);
        this.productionStream = record ? new HttpResponseStream(this::methodOf, production::add) : null;
        this.earlyProduction = record ? new ByteArrayOutputStream() : null;
    }

    /**
     * Rewrites one captured client message (captured at {@code tsMicros}); null when the middleware did not return
     * it (counted there) or the filters left out all it held: it is not to be sent. A message that starts an
     * HTTP/1.x request goes through the middleware first.
     */
    public byte[] rewrite(byte[] message, long tsMicros) {
        messageTsMicros = tsMicros;
        if (h2 == null && (stream.requests() == 0 || stream.passReason() == ReplayProblem.HTTP_UPGRADE)
                && stream.passReason() != ReplayProblem.NOT_HTTP) {
            if (Http2Reader.startsWithPreface(message, 0, message.length)) {
                h2 = new Http2RequestStream(rules, this, false);
            } else if (stream.requests() == 0 && Http2Reader.framesExactly(message, 0, message.length)) {
                h2 = new Http2RequestStream(rules, this, true);
            }
        }
        if (h2 != null) {
            // After an Upgrade: h2c the answers' reader is already past the 101; only a preface session's are read.
            if (replayedH2 == null && h2.passReason() == null && stream.requests() == 0) {
                replayedH2 = new Http2ResponseStream((id, r) -> place(replayed, id, record ? r
                        : new HttpResponse(r.status(), List.of(), new byte[0], false, r.completeNanos())));
                productionH2 = record ? new Http2ResponseStream(this::placeProduction) : null;
            }
            byte[] out = h2.rewrite(message);
            flushEarly();
            return nothingLeft(message, out);
        }
        flushEarly();
        if (middleware != null && stream.passReason() == null && Middleware.startsRequest(message)) {
            if (!(middleware.request(message, tsMicros) instanceof Middleware.Passed passed)) {
                return null;
            }
            message = passed.bytes();
        }
        return nothingLeft(message, stream.rewrite(message));
    }

    /** Null (not to be sent, no answer to await) when the filters left out everything the message held. */
    private static byte[] nothingLeft(byte[] message, byte[] out) {
        return out.length == 0 && message.length > 0 ? null : out;
    }

    /** Requests and streams left out by the filters. */
    public int filtered() {
        return stream.filtered() + (h2 == null ? 0 : h2.filtered());
    }

    /** The requests rewritten so far and not sent yet were written now. */
    public void sent(long nowNanos) {
        for (int i = sentRequests; i < requests.size(); i++) {
            requests.get(i).sentNanos = nowNanos;
        }
        sentRequests = requests.size();
    }

    /** Bytes the target answered. */
    public void replayedData(byte[] b, int off, int len, long nowNanos) {
        if (earlyReplayed != null) {
            keep(earlyReplayed, b, off, len);
        } else if (replayedH2 != null) {
            replayedH2.feed(b, off, len, nowNanos);
        } else {
            replayedStream.feed(b, off, len, nowNanos);
        }
    }

    /** Bytes the production server answered, from the capture. */
    public void productionData(byte[] b, int off, int len) {
        if (earlyProduction != null) {
            keep(earlyProduction, b, off, len);
        } else if (productionH2 != null) {
            productionH2.feed(b, off, len, 0);
        } else if (productionStream != null) {
            productionStream.feed(b, off, len, 0);
        }
    }

    private static void keep(ByteArrayOutputStream early, byte[] b, int off, int len) {
        early.write(b, off, Math.min(len, Math.max(0, MAX_EARLY - early.size())));
    }

    /** The first request told the protocol: what the servers said before it is read now. */
    private void flushEarly() {
        ByteArrayOutputStream r = earlyReplayed;
        ByteArrayOutputStream p = earlyProduction;
        earlyReplayed = null;
        earlyProduction = null;
        if (r != null && r.size() > 0) {
            replayedData(r.toByteArray(), 0, r.size(), System.nanoTime());
        }
        if (p != null && p.size() > 0) {
            productionData(p.toByteArray(), 0, p.size());
        }
    }

    private void placeProduction(int stream, HttpResponse r) {
        if (streamIndex.containsKey(stream)) {
            place(production, stream, r);
        } else {
            productionAhead.put(stream, r); // the capture is read ahead of the replay
        }
    }

    /** An HTTP/2 answer, at the index of the request its stream carried. */
    private void place(List<HttpResponse> list, int stream, HttpResponse r) {
        Integer i = streamIndex.get(stream);
        if (i == null) {
            return; // a stream left out, or one whose head did not decode
        }
        while (list.size() <= i) {
            list.add(null);
        }
        list.set(i, r);
    }

    /** The connection to the target and the captured one are over. */
    public void closed(long nowNanos) {
        replayedStream.closed(nowNanos);
        if (productionStream != null) {
            productionStream.closed(0);
        }
    }

    /** True once a request was recognised in the client stream. */
    public boolean isHttp() {
        return stream.isHttp() || h2 != null;
    }

    /** Why the client stream was passed through untouched, or null. */
    public ReplayProblem passReason() {
        return h2 != null ? h2.passReason() : stream.passReason();
    }

    public List<Request> requests() {
        return requests;
    }

    public List<HttpResponse> replayed() {
        return replayed;
    }

    public List<HttpResponse> production() {
        return production;
    }

    private String methodOf(int index) {
        return index < requests.size() ? requests.get(index).method : null;
    }

    private void onReplayed(HttpResponse r) {
        if (record) {
            replayed.add(r);
        } else {
            replayed.add(new HttpResponse(r.status(), List.of(), new byte[0], false, r.completeNanos()));
        }
    }

    @Override
    public void request(String method, String url, String version, List<String[]> headers) {
        requests.add(new Request(method, url, record ? headers : List.of(), messageTsMicros, record));
    }

    @Override
    public boolean request(int id, String method, String url, List<String[]> headers) {
        streamIndex.put(id, requests.size());
        requests.add(new Request(method, url, record ? headers : List.of(), messageTsMicros, false));
        HttpResponse ahead = productionAhead.remove(id);
        if (ahead != null) {
            place(production, id, ahead);
        }
        return true;
    }

    @Override
    public void body(byte[] b, int off, int len) {
        Request r = requests.get(requests.size() - 1);
        if (r.body == null) {
            return;
        }
        int room = HttpResponseStream.MAX_BODY - r.body.size();
        if (len > room) {
            r.bodyTruncated = true;
        }
        r.body.write(b, off, Math.min(len, Math.max(0, room)));
    }

    @Override
    public void end() {
        // requests are paired with responses by order; nothing to do at a request's end
    }
}
