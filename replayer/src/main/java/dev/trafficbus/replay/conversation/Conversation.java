package dev.trafficbus.replay.conversation;

/**
 * When the answer to a replayed message is complete, for one session, the same for every engine. The
 * protocol is recognised from the first client bytes: HTTP/1.x, HTTP/2 (the h2c preface, or an
 * {@code Upgrade: h2c} answered 101: complete per stream at END_STREAM or RST_STREAM, see {@link Http2Session})
 * and Redis RESP answers are complete when their framing says so, whatever their size and however long the server pauses inside them; for other
 * protocols (or answers the engine cannot see) the captured size decides, then a quiet period, then the
 * response timeout. Every answer's {@link Judgement} is kept for the counts.
 * <p>
 * Engines call {@link #sent} with each message's bytes as written, {@link #received} with the answer bytes
 * as they arrive (in any split), {@link #closed} when the target ends the connection, and {@link #judge}
 * whenever something changed or the time it asked for ({@link #wakeAt}) came. Single-threaded; nothing is
 * allocated per byte or per read.
 */
public final class Conversation implements Http1Reader.Owner {
    /** What {@link #judge} found. */
    public enum Verdict {
        /** Not complete yet: call again by {@link #wakeAt()} or when bytes arrive. */
        WAIT,
        /** Complete; {@link #judgement()} says how it was known. */
        ANSWERED,
        /** No complete answer within the response timeout. */
        TIMED_OUT,
        /** The target closed the connection without answering. */
        CLOSED_UNANSWERED
    }

    /** Told the status of every final HTTP answer (for reports). */
    public interface StatusListener {
        /** An answer with status {@code code} began; {@code endpoint} (may be null) names what was asked. */
        void status(String endpoint, int code);
    }

    private enum Protocol { UNKNOWN_YET, HTTP, HTTP2, RESP, WEBSOCKET, OTHER }

    private static final int REQUEST_HEAD = 1;
    private static final int REQUEST_CONNECT = 2;
    private static final int REQUEST_H2C = 4;
    private static final int REQUEST_WEBSOCKET = 8;
    private static final int KEEP_TARGET = 256;

    private final long quietNanos;
    private final long timeoutNanos;
    private final StatusListener statusListener;
    private Protocol protocol = Protocol.UNKNOWN_YET;

    // HTTP: one reader per direction, and the flags of requests whose responses are outstanding.
    private Http1Reader requests;
    private Http1Reader responses;
    private int requestHeads;
    private int requestsEnded;
    private int responsesEnded;
    private int[] requestFlags = new int[4];
    private int continueIndex = -1;
    private boolean continueGot;
    // RESP: commands written and replies read.
    private RespSession resp;
    // HTTP/2: the streams, from both directions' frames.
    private Http2Session h2;
    /** A 101 answered an {@code Upgrade: h2c} request: the rest of the answer bytes are HTTP/2 frames. */
    private boolean h2Upgrade;
    /** The message awaiting its answer was the upgrading request: the 101 answered it. */
    private boolean upgradeAnswered;
    // WebSocket: the 101 that switches was read; then the switched session (null before and after framing).
    private boolean webSocketAccepted;
    private WebSocketSession ws;
    /** Streams reset by the target on an HTTP/2 session left since (its reader broke). */
    private long streamsReset;
    private final WebSocketCounts webSocketCounts;
    /**
     * What the server said before the protocol was known (an HTTP/2 server's SETTINGS may come before the
     * client's preface), for the reader of that protocol; made only when a server speaks first. Length -1: more
     * than it holds.
     */
    private byte[] early;
    private int earlyLen;

    // The wait in progress.
    private boolean greeting;
    private long sentAtNanos;
    private long received;
    /** HTTP/2: the session's refused and answered streams when the current message was sent. */
    private long h2ResetsAtSend;
    private long h2AnsweredAtSend;
    private long lastReadNanos;
    private boolean closed;
    private boolean endpointPending;
    /** The last message asked nothing its framing owes an answer to (see {@link #answered()}). */
    private boolean owedNothing;
    private String endpoint;
    private String lastEndpoint;
    private Judgement judgement;
    private long answeredAtNanos;
    private long wakeAt;

    /**
     * @param quietNanos   for protocols it cannot read: silence after which an answer of another size is complete
     * @param timeoutNanos longest wait for one answer
     */
    public Conversation(long quietNanos, long timeoutNanos) {
        this(quietNanos, timeoutNanos, null);
    }

    /** As above; {@code statusListener} (may be null) hears every final HTTP status. */
    public Conversation(long quietNanos, long timeoutNanos, StatusListener statusListener) {
        this(quietNanos, timeoutNanos, statusListener, null);
    }

    /** As above; {@code webSocketCounts} (may be null) counts WebSocket frames by opcode. */
    public Conversation(long quietNanos, long timeoutNanos, StatusListener statusListener,
                        WebSocketCounts webSocketCounts) {
        this.quietNanos = quietNanos;
        this.timeoutNanos = timeoutNanos;
        this.statusListener = statusListener;
        this.webSocketCounts = webSocketCounts;
    }

    /**
     * A message's bytes ({@code b[off, off+len)}, as they will be sent) are about to be written: on a WebSocket
     * session its frames get fresh masking keys, re-masked in place. Called once per message, before the write and
     * before {@link #sent}.
     */
    public void prepare(byte[] b, int off, int len) {
        if (protocol == Protocol.WEBSOCKET) {
            fed(ws, true, b, off, len);
        }
    }

    /** Connected: the wait is for whatever the server says before the client's first message. */
    public void awaitGreeting(long now) {
        greeting = true;
        startWait(now);
    }

    /** A message was written ({@code b[off, off+len)}, as sent); the wait for its answer starts. */
    public void sent(byte[] b, int off, int len, long now) {
        greeting = false;
        startWait(now);
        endpoint = null;
        endpointPending = true;
        upgradeAnswered = false;
        if (protocol == Protocol.UNKNOWN_YET && len > 0) {
            detect(b, off, len);
        }
        owedNothing = false;
        if (protocol == Protocol.HTTP2) {
            h2ResetsAtSend = h2.targetResets();
            h2AnsweredAtSend = h2.streamsAnswered();
            if (fed(h2, true, b, off, len)) {
                owedNothing = h2.nothingAwaited();
            }
        } else if (protocol == Protocol.HTTP) {
            requests.feed(b, off, len, now);
            if (requests.broken() || requests.passed()) {
                leave(); // not HTTP after all, or no longer: what follows is judged by size
            }
        } else if (protocol == Protocol.RESP) {
            RespSession commands = resp;
            fed(commands, true, b, off, len);
            endpoint = commands.takeFirstCommand(); // even when it leaves framing (SUBSCRIBE names the message)
        } else if (protocol == Protocol.WEBSOCKET) {
            endpoint = ws.endpoint(); // its frames were read by prepare()
        }
        endpointPending = false;
        if (endpoint == null) {
            endpoint = lastEndpoint; // the rest of a request (a body after 100 Continue) asks what its head asked
        } else {
            lastEndpoint = endpoint;
        }
    }

    /** Answer bytes, in order. */
    public void received(byte[] b, int off, int len, long now) {
        if (len <= 0) {
            return;
        }
        received += len;
        lastReadNanos = now;
        if (protocol == Protocol.UNKNOWN_YET) {
            keepEarly(b, off, len);
        } else if (protocol == Protocol.HTTP2) {
            fed(h2, false, b, off, len);
        } else if (protocol == Protocol.HTTP) {
            responses.feed(b, off, len, now);
            if (responses.broken()) {
                leave();
            } else if (webSocketAccepted) {
                int at = responses.passedAt();
                switchToWebSocket();
                if (at >= 0 && at < off + len) {
                    fed(ws, false, b, at, off + len - at); // frames in the same read as the 101
                }
            } else if (h2Upgrade) {
                int at = responses.passedAt();
                protocol = Protocol.HTTP2;
                h2 = new Http2Session(Http2Session.Start.UPGRADE, streamEndpoints());
                upgradeAnswered = true;
                requests = null;
                responses = null;
                if (at >= 0) {
                    fed(h2, false, b, at, off + len - at);
                }
            }
        } else if (protocol == Protocol.RESP) {
            fed(resp, false, b, off, len);
        } else if (protocol == Protocol.WEBSOCKET) {
            fed(ws, false, b, off, len);
        }
    }

    private void keepEarly(byte[] b, int off, int len) {
        if (earlyLen < 0) {
            return;
        }
        if (early == null) {
            early = new byte[256];
        }
        if (earlyLen + len > early.length) {
            earlyLen = -1;
            return;
        }
        System.arraycopy(b, off, early, earlyLen, len);
        earlyLen += len;
    }

    /** Feeds one direction's bytes to {@code f}; false, and framing left, when they cannot be read. */
    private boolean fed(FramedSession f, boolean fromClient, byte[] b, int off, int len) {
        if (fromClient) {
            f.clientBytes(b, off, len);
        } else {
            f.serverBytes(b, off, len);
        }
        if (f.broken()) {
            leave();
            return false;
        }
        return true;
    }

    /**
     * Answer bytes whose content is not known (headers-only relay, or bytes that went missing): framing is
     * given up for the rest of the session, sizes still count.
     */
    public void receivedUnseen(long len, long now) {
        if (len <= 0) {
            return;
        }
        received += len;
        lastReadNanos = now;
        if (protocol != Protocol.OTHER) {
            leave();
        }
    }

    /** The target closed (or reset) the connection. */
    public void closed(long now) {
        if (!closed) {
            closed = true;
            if (protocol == Protocol.HTTP) {
                responses.closed(now);
            }
        }
    }

    /**
     * Whether the answer awaited is complete now. {@code expected} and {@code settled} are what the capture
     * says about it: bytes production answered (final once settled).
     */
    public Verdict judge(long now, long expected, boolean settled) {
        if (!greeting && protocol == Protocol.WEBSOCKET) {
            if (upgradeAnswered) {
                return answered(Judgement.FRAMING, now); // the 101 that switched
            }
            if (expected == 0 && settled) {
                // A WebSocket message is no request: production answered nothing, so nothing is owed.
                owedNothing = true;
                return answered(Judgement.SIZE, now);
            }
            if (expected > 0 && received >= expected && ws.serverBetweenMessages()) {
                return answered(Judgement.FRAMING, now);
            }
            // fewer bytes than production's, or inside a frame: the close, silence or the timeout end it
        } else if (!greeting && framed()) {
            if (answeredByFraming()) {
                return answered(Judgement.FRAMING, now);
            }
            boolean untilClose = protocol == Protocol.HTTP && responses.untilClose();
            if (!untilClose) {
                if (closed) {
                    return received > 0 || (expected == 0 && settled) ? answered(Judgement.CLOSE, now)
                            : Verdict.CLOSED_UNANSWERED;
                }
                return timedOutOrWait(now, false);
            }
            // A body delimited by the close on a connection kept open: only silence can end it.
        } else {
            if (expected == 0 && settled) {
                return answered(Judgement.SIZE, now); // production answered nothing: nothing to wait for
            }
            if (expected > 0 && received >= expected) {
                return answered(Judgement.SIZE, now);
            }
        }
        if (closed) {
            return received > 0 || greeting ? answered(Judgement.CLOSE, now) : Verdict.CLOSED_UNANSWERED;
        }
        if (received > 0 && now - lastReadNanos >= quietNanos) {
            return answered(Judgement.SILENCE, now);
        }
        return timedOutOrWait(now, true);
    }

    /** When {@link #judge} wants to be called again at the latest (nanoTime), after it said WAIT. */
    public long wakeAt() {
        return wakeAt;
    }

    /** How the last answer was judged (TIMEOUT after TIMED_OUT), or null before the first. */
    public Judgement judgement() {
        return judgement;
    }

    /** Nanoseconds from the last message's write to its answer, once judged. */
    public long answerNanos() {
        return answeredAtNanos - sentAtNanos;
    }

    /**
     * The last message counts as answered: bytes came back, or it asked for nothing the server answers (HTTP/2
     * frames that open or finish no request, such as a SETTINGS acknowledgement, WINDOW_UPDATE or the client's
     * GOAWAY, while no request awaits its answer; a WebSocket message production did not answer). An answer of
     * nothing to a request stays unanswered.
     */
    public boolean answered() {
        return (received > 0 || owedNothing) && !everyStreamRefused();
    }

    /**
     * HTTP/2: the target reset or refused (GOAWAY) streams while this message waited and answered none to its end:
     * the frames that said so are bytes back, but no request of the message got its answer.
     */
    public boolean everyStreamRefused() {
        return h2 != null && h2.targetResets() > h2ResetsAtSend && h2.streamsAnswered() == h2AnsweredAtSend;
    }

    /** Bytes of the current answer so far. */
    public long received() {
        return received;
    }

    /** HTTP/2 streams the target reset or refused before answering them (0 for other protocols). */
    public long streamsResetByTarget() {
        return streamsReset + (h2 == null ? 0 : h2.targetResets());
    }

    /**
     * What the last message asked for, for reports: HTTP method and path template ({@code GET /users/{id}}),
     * for HTTP/2 that of the first stream it opens (when statuses are listened for), a Redis command name, or
     * null for other protocols.
     */
    public String endpoint() {
        return endpoint;
    }

    /** The protocol as recognised so far: {@code http}, {@code resp}, or {@code other}. */
    public String protocol() {
        return switch (protocol) {
            case HTTP -> "http";
            case HTTP2 -> "http2";
            case RESP -> "resp";
            case WEBSOCKET -> "websocket";
            default -> "other";
        };
    }

    private void detect(byte[] b, int off, int len) {
        byte first = b[off];
        boolean preface = Http2Reader.startsWithPreface(b, off, len);
        if ((preface || Http2Reader.framesExactly(b, off, len)) && earlyLen >= 0) {
            protocol = Protocol.HTTP2;
            h2 = new Http2Session(preface ? Http2Session.Start.PREFACE : Http2Session.Start.MID_CONNECTION,
                    streamEndpoints());
            if (earlyLen > 0) {
                fed(h2, false, early, 0, earlyLen);
            }
        } else if (first == '*') {
            protocol = Protocol.RESP;
            resp = new RespSession();
        } else if (first >= 'A' && first <= 'Z') {
            protocol = Protocol.HTTP;
            requests = new Http1Reader(this, KEEP_TARGET);
            responses = new Http1Reader(this, 16);
        } else {
            protocol = Protocol.OTHER;
        }
        early = null;
    }

    /**
     * What reads the endpoint and status of each HTTP/2 stream, when someone listens for statuses: the first
     * stream a message opens names the message, as a request line does for HTTP/1.
     */
    private Http2Endpoints streamEndpoints() {
        if (statusListener == null) {
            return null;
        }
        return new Http2Endpoints(new Http2Endpoints.Listener() {
            @Override
            public void request(String named) {
                if (endpointPending) {
                    endpointPending = false;
                    endpoint = named;
                }
            }

            @Override
            public void status(String named, int code) {
                statusListener.status(named, code);
            }
        });
    }

    /** Framing no longer applies: the rest of the session is judged by size and silence. */
    private void leave() {
        protocol = Protocol.OTHER;
        requests = null;
        responses = null;
        resp = null;
        if (h2 != null) {
            streamsReset += h2.targetResets();
        }
        h2 = null;
        h2Upgrade = false;
        ws = null;
        webSocketAccepted = false;
    }

    /** The target accepted the upgrade: from here on both directions carry WebSocket frames. */
    private void switchToWebSocket() {
        protocol = Protocol.WEBSOCKET;
        webSocketAccepted = false;
        upgradeAnswered = true;
        requests = null;
        responses = null;
        ws = new WebSocketSession(lastEndpoint, webSocketCounts);
    }

    /**
     * Framing judges once the protocol is confirmed (a request head, a whole command seen). A message that
     * completes no request (part of one, e.g. headers whose body follows) then has nothing to wait for.
     */
    private boolean framed() {
        return switch (protocol) {
            case HTTP -> requestHeads > 0;
            case HTTP2 -> true;
            case RESP -> resp.confirmed();
            default -> false;
        };
    }

    private boolean answeredByFraming() {
        if (protocol == Protocol.HTTP2) {
            return upgradeAnswered || h2.answered();
        }
        if (protocol == Protocol.HTTP) {
            if (continueIndex >= 0) {
                return continueGot || responsesEnded > continueIndex;
            }
            return responsesEnded >= requestsEnded;
        }
        return resp.answered();
    }

    private Verdict timedOutOrWait(long now, boolean quiet) {
        if (now - sentAtNanos >= timeoutNanos) {
            judgement = Judgement.TIMEOUT;
            answeredAtNanos = now;
            return Verdict.TIMED_OUT;
        }
        wakeAt = sentAtNanos + timeoutNanos;
        if (quiet && received > 0 && lastReadNanos + quietNanos - wakeAt < 0) {
            wakeAt = lastReadNanos + quietNanos;
        }
        return Verdict.WAIT;
    }

    private Verdict answered(Judgement j, long now) {
        judgement = j;
        answeredAtNanos = now;
        return Verdict.ANSWERED;
    }

    private void startWait(long now) {
        sentAtNanos = now;
        received = 0;
        lastReadNanos = now;
        judgement = null;
    }

    // ---- HTTP: what each head means (Http1Reader.Owner) ----

    @Override
    public long head(Http1Reader r, long now) {
        return r == requests ? requestHead(r) : responseHead(r);
    }

    private long requestHead(Http1Reader r) {
        if (r.status() != 0) {
            return Http1Reader.PASS; // a status line in the client's stream: not a client
        }
        int f = (r.firstWordIs("HEAD") ? REQUEST_HEAD : 0) | (r.firstWordIs("CONNECT") ? REQUEST_CONNECT : 0)
                | ((r.headerFlags() & Http1Reader.UPGRADE_H2C) != 0 ? REQUEST_H2C : 0)
                | ((r.headerFlags() & Http1Reader.UPGRADE_WEBSOCKET) != 0 ? REQUEST_WEBSOCKET : 0);
        int i = requestHeads++;
        if (i - responsesEnded >= requestFlags.length) {
            int[] grown = new int[requestFlags.length * 2];
            for (int k = responsesEnded; k < i; k++) {
                grown[k % grown.length] = requestFlags[k % requestFlags.length];
            }
            requestFlags = grown;
        }
        requestFlags[i % requestFlags.length] = f;
        if (endpointPending) {
            endpointPending = false;
            endpoint = EndpointNames.http(r.firstLine(), r.firstLineLength());
        }
        int h = r.headerFlags();
        long body = (h & Http1Reader.CHUNKED_CODING) != 0 ? Http1Reader.CHUNKED
                : (h & Http1Reader.HAS_CONTENT_LENGTH) != 0 ? r.contentLength() : 0;
        if ((h & Http1Reader.EXPECT_CONTINUE) != 0 && body != 0) {
            continueIndex = i;
            continueGot = false;
        }
        return body;
    }

    private long responseHead(Http1Reader r) {
        int status = r.status();
        if (status == 0) {
            return Http1Reader.PASS; // a request line in the server's stream
        }
        int f = responsesEnded < requestHeads ? requestFlags[responsesEnded % requestFlags.length] : 0;
        if ((status >= 200 || status == 101) && statusListener != null) {
            statusListener.status(endpoint, status);
        }
        if (status == 101 || (status / 100 == 2 && (f & REQUEST_CONNECT) != 0)) {
            responsesEnded++; // answered; the connection now carries another protocol
            h2Upgrade = status == 101 && (f & REQUEST_H2C) != 0;
            webSocketAccepted = status == 101 && (f & REQUEST_WEBSOCKET) != 0;
            return Http1Reader.PASS;
        }
        if (status < 200) {
            if (status == 100 && continueIndex == responsesEnded) {
                continueGot = true;
            }
            return Http1Reader.INTERIM;
        }
        if ((f & REQUEST_HEAD) != 0 || status == 204 || status == 304) {
            return 0;
        }
        int h = r.headerFlags();
        if ((h & Http1Reader.CHUNKED_CODING) != 0) {
            return Http1Reader.CHUNKED;
        }
        if ((h & Http1Reader.OTHER_CODING) == 0 && (h & Http1Reader.HAS_CONTENT_LENGTH) != 0) {
            return r.contentLength();
        }
        return Http1Reader.UNTIL_CLOSE;
    }

    @Override
    public void end(Http1Reader r, long now) {
        if (r == requests) {
            requestsEnded++;
            if (continueIndex == requestsEnded - 1) {
                continueIndex = -1; // its body is sent: now its final response is awaited like any other
            }
        } else {
            responsesEnded++;
            if (continueIndex >= 0 && responsesEnded > continueIndex) {
                continueIndex = -1; // answered before its body was sent (e.g. 417, 401)
            }
        }
    }
}
