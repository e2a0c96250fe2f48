package dev.trafficbus.replay.http;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.conversation.Http2Reader;
import dev.trafficbus.replay.middleware.Middleware;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The HTTP side of one replayed session: rewrites its requests, reads the target's responses and, when
 * recording, the production responses from the capture, and pairs them by order (HTTP/1.x answers in
 * request order, also when pipelined). Runs on the session's event loop.
 */
public final class HttpExchanges implements HttpRequestStream.Listener, Http2RequestStream.Listener {
    /** What {@link #rewrite} returns for a message that goes to the middleware first (compared by identity). */
    public static final byte[] TO_MIDDLEWARE = new byte[0];

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
    private long earlyProductionTsMicros;
    private static final int MAX_EARLY = 64 * 1024;
    /** Middleware ids of the requests fed to it, in capture order (production's answers pair with these). */
    private final List<long[]> fedIds;
    /** Middleware id of each request sent, in order (the target's answers pair with these). */
    private final List<Long> sentIds;
    private long messageId;
    /** Production answers read before their request was fed (the capture runs ahead of the replay). */
    private final ArrayDeque<Object[]> productionWaiting = new ArrayDeque<>();
    private int productionNext;

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
        boolean answersToMiddleware = middleware != null && middleware.wantsResponses();
        this.productionStream = record || answersToMiddleware ? new HttpResponseStream(this::methodOf,
                record ? production::add : r -> { }) : null;
        this.earlyProduction = productionStream != null ? new ByteArrayOutputStream() : null;
        this.fedIds = answersToMiddleware ? new ArrayList<>() : null;
        this.sentIds = answersToMiddleware ? new ArrayList<>() : null;
        if (answersToMiddleware) {
            replayedStream.keepRaw(this::replayedRaw);
            productionStream.keepRaw(this::productionRaw);
        }
    }

    /** True when the production answers from the capture are read ({@link #productionData}). */
    public boolean readsProduction() {
        return productionStream != null;
    }

    /**
     * Rewrites one captured client message (captured at {@code tsMicros}); null when the filters left out all it
     * held: it is not to be sent. A message that starts an HTTP/1.x request a middleware is to see is not rewritten
     * yet: {@link #TO_MIDDLEWARE} says to hand it to {@link #toMiddleware} and send what {@link #fromMiddleware}
     * makes of the outcome.
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
        messageId = 0;
        if (middleware != null && stream.passReason() == null && Middleware.startsRequest(message)) {
            return TO_MIDDLEWARE;
        }
        return nothingLeft(message, stream.rewrite(message));
    }

    /** Feeds the message {@link #rewrite} returned {@link #TO_MIDDLEWARE} for; completes on the program's thread. */
    public CompletableFuture<Middleware.Outcome> toMiddleware(byte[] message, long tsMicros) {
        return middleware.request(message, tsMicros);
    }

    /**
     * What to send for the message handed to {@link #toMiddleware} (captured at {@code tsMicros}), now that the
     * middleware decided: its bytes rewritten, or null when it left the message out (counted there) or the filters
     * left out all it held. Called on the session's loop, before anything else of this session is rewritten.
     */
    public byte[] fromMiddleware(Middleware.Outcome o, long tsMicros) {
        long id = o instanceof Middleware.Passed p ? p.id() : ((Middleware.Lost) o).id();
        if (fedIds != null) {
            fedIds.add(new long[] {id, tsMicros});
            productionToMiddleware();
        }
        if (!(o instanceof Middleware.Passed passed)) {
            return null;
        }
        messageId = id;
        return nothingLeft(passed.bytes(), stream.rewrite(passed.bytes()));
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

    /** Bytes the production server answered, from the capture (at {@code tsMicros}). */
    public void productionData(byte[] b, int off, int len, long tsMicros) {
        if (earlyProduction != null) {
            keep(earlyProduction, b, off, len);
            earlyProductionTsMicros = tsMicros;
        } else if (productionH2 != null) {
            productionH2.feed(b, off, len, 0);
        } else if (productionStream != null) {
            productionStream.feed(b, off, len, tsMicros * 1000L);
        }
    }

    /** Production's answer {@code index} goes to the middleware as type 2 once its request was fed. */
    private void productionRaw(int index, byte[] raw, long capturedNanos) {
        productionWaiting.add(new Object[] {raw, capturedNanos});
        productionToMiddleware();
    }

    /** Hands on the production answers whose requests were fed (in order), latency from the capture. */
    private void productionToMiddleware() {
        while (!productionWaiting.isEmpty() && productionNext < fedIds.size()) {
            Object[] w = productionWaiting.poll();
            long[] fed = fedIds.get(productionNext++);
            long capturedNanos = (Long) w[1];
            middleware.response(Middleware.Answer.ORIGINAL, fed[0], (byte[]) w[0], capturedNanos,
                    capturedNanos - fed[1] * 1000L);
        }
    }

    /** The target's answer {@code index} goes to the middleware as type 3, before the next request is sent. */
    private void replayedRaw(int index, byte[] raw, long nowNanos) {
        if (index < sentIds.size() && index < requests.size()) {
            long sent = requests.get(index).sentNanos;
            long latency = sent < 0 ? 0 : nowNanos - sent;
            long epochNanos = System.currentTimeMillis() * 1_000_000L;
            middleware.response(Middleware.Answer.REPLAYED, sentIds.get(index), raw, epochNanos, latency);
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
            productionData(p.toByteArray(), 0, p.size(), earlyProductionTsMicros);
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
        if (sentIds != null) {
            sentIds.add(messageId);
        }
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
