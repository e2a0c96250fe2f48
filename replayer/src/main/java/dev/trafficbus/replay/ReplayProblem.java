package dev.trafficbus.replay;

import java.util.Arrays;
import java.util.List;

/**
 * Why something in a replay did not go as captured: the one vocabulary of both engines and the intake; the label
 * is the key in {@code problems} of the summary, the report, {@code tb.runs} and {@code /metrics}
 * ({@code problems{reason=...}}). The same thing has the same name whichever engine saw it.
 */
public enum ReplayProblem {
    // ---- records and packets read from the topic ----
    /** A record value that is not a valid capture record (its packets are unknown). */
    UNDECODABLE("undecodable"),
    /** The packets of a record whose {@code tb.copy} header is malformed. */
    BAD_COPY_HEADER("bad-copy-header"),
    /** A packet that is not IP/TCP. */
    NOT_TCP("not-tcp"),
    /** An IP fragment: its TCP header cannot be read alone. */
    IP_FRAGMENT("ip-fragment"),
    /** A packet the capture cut short. */
    TRUNCATED_PACKET("truncated-packet"),
    /** A packet whose header fields contradict each other. */
    MALFORMED_PACKET("malformed-packet"),
    /** Payload captured after the connection was closed or reset: not replayed. */
    DATA_AFTER_CLOSE("data-after-close"),

    // ---- the captured sessions ----
    /** Bytes of the client's stream the capture missed (the session is replayed incomplete). */
    CAPTURE_GAP("capture-gap"),
    /** A session in which the client sent nothing: not replayed. */
    NO_CLIENT_DATA("no-client-data"),
    /** A session ended by a stop after the drain time, or by losing its partition: not replayed whole. */
    INTERRUPTED("interrupted"),

    // ---- connecting to the target ----
    /** The target refused the connection (RST to the SYN). */
    CONNECT_REFUSED("connect-refused"),
    /** No connection within --connect-timeout (socket) or --handshake-timeout (tcp). */
    CONNECT_TIMEOUT("connect-timeout"),
    /** No route to the target. */
    CONNECT_UNREACHABLE("connect-unreachable"),
    /** The connection failed otherwise. */
    CONNECT_ERROR("connect-error"),

    // ---- TLS to the target (https targets) ----
    /** The TLS handshake failed otherwise (alert from the target, closed during it, no answer in time). */
    TLS_HANDSHAKE_FAILED("tls-handshake-failed"),
    /** The target's certificate is not signed by a trusted CA (the JVM's, or --target-ca). */
    TLS_UNTRUSTED_CERTIFICATE("tls-untrusted-certificate"),
    /** The target's certificate does not name the server name offered (--tls-server-name or Host). */
    TLS_HOSTNAME_MISMATCH("tls-hostname-mismatch"),
    /** The target does not speak a TLS version or cipher in common, or not TLS at all. */
    TLS_PROTOCOL("tls-protocol"),
    /**
     * The target did not choose the session's protocol by ALPN ({@code h2} for a session captured as HTTP/2,
     * {@code http/1.1} otherwise), or refused it with an alert: the session is not replayed.
     */
    TLS_ALPN_REFUSED("tls-alpn-refused"),
    /** A TLS connection whose certificate was not checked (--insecure): replayed, but a warning. */
    TLS_UNVERIFIED("tls-unverified"),

    // ---- answers ----
    /** No complete answer within --response-timeout: the next message was sent anyway. */
    RESPONSE_TIMEOUT("response-timeout"),
    /** The target closed the connection while messages were still to be sent or answered. */
    TARGET_CLOSED("target-closed"),
    /** The target reset the connection while messages were still to be sent or answered. */
    TARGET_RESET("target-reset"),
    /** The connection to the target failed with another error. */
    TARGET_ERROR("target-error"),
    /** A replayed connection made no progress for --idle-timeout (tcp engine): reset. */
    IDLE_TIMEOUT("idle-timeout"),
    /**
     * Answer bytes relayed without payload (intercept without --with-payload) or lost: HTTP reading stopped; a TLS
     * session, which cannot decrypt them, fails.
     */
    ANSWER_UNSEEN("answer-unseen"),

    // ---- HTTP: sessions passed through untouched ----
    /** The client's first bytes are not an HTTP/1.x request. */
    NOT_HTTP("not-http"),
    /** The session switched protocols (Upgrade, CONNECT): the rest passes through. */
    HTTP_UPGRADE("http-upgrade"),
    /** A request head split across messages: sent as captured. */
    HTTP_HEAD_SPLIT("http-head-split"),
    /** A request the HTTP reader could not parse: the rest passes through. */
    HTTP_UNPARSED("http-unparsed"),
    /** A request head larger than the reader keeps: the rest passes through. */
    HTTP_HEAD_TOO_LARGE("http-head-too-large"),
    /** An HTTP/2 session captured without its start (no preface, no HPACK table): replayed as captured. */
    HTTP_MID_CONNECTION("http-mid-connection"),
    /** An HTTP/2 stream the target reset (RST_STREAM) or refused (GOAWAY) before answering it in full. */
    STREAM_RESET("stream-reset"),
    /** A request (HTTP/1.x) or stream (HTTP/2) left out by --http-allow-url, --http-deny-url or --http-allow-method. */
    REQUEST_FILTERED("request-filtered"),
    /** A request the --middleware program left out (a later request came back first): not sent. */
    MIDDLEWARE_DROPPED("middleware-dropped"),
    /** A request the --middleware program returned nothing for within --middleware-timeout: not sent. */
    MIDDLEWARE_TIMEOUT("middleware-timeout"),
    /** The --middleware program exited before the end (once), and each request not sent because of it. */
    MIDDLEWARE_EXITED("middleware-exited"),
    /** Response records (--capture-responses) that could not be published. */
    RESPONSES_PUBLISH_FAILED("responses-publish-failed"),

    // ---- tcp engine: raw packets and intercept ----
    /** Every fake client endpoint is in use or in quarantine: sessions wait. */
    ENDPOINTS_EXHAUSTED("endpoints-exhausted"),
    /** The raw socket refused a segment. */
    RAW_SEND_FAILED("raw-send-failed"),
    /** Our SYN was sent again (no SYN-ACK yet). */
    SYN_RETRANSMIT("syn-retransmit"),
    /** Data sent again after three duplicate ACKs. */
    FAST_RETRANSMIT("fast-retransmit"),
    /** Data sent again after the retransmission timeout. */
    RETRANSMIT_TIMEOUT("retransmit-timeout"),
    /** One byte sent into a closed window so the server tells its window again. */
    ZERO_WINDOW_PROBE("zero-window-probe"),
    /** Intercept relayed a packet that is not TCP. */
    RELAYED_NOT_TCP("relayed-not-tcp"),
    /** Intercept relayed a packet that is not from the target. */
    RELAYED_NOT_FROM_TARGET("relayed-not-from-target"),
    /** Intercept relayed a packet for a session already over (e.g. a retransmission crossing our RST). */
    RELAYED_AFTER_END("relayed-after-end"),
    /** An intercept could not be reached. */
    INTERCEPT_CONNECT_FAILED("intercept-connect-failed"),
    /** An intercept connection was lost (it is reconnected). */
    INTERCEPT_DISCONNECTED("intercept-disconnected"),
    /** An intercept refused this replayer (token, route). */
    INTERCEPT_REFUSED("intercept-refused"),
    /** An intercept sent nothing, not even keep-alives, for too long. */
    INTERCEPT_SILENT("intercept-silent"),
    /** An intercept frame that does not decode. */
    INTERCEPT_BAD_FRAME("intercept-bad-frame"),
    /** An intercept frame of a kind this replayer does not know. */
    INTERCEPT_UNKNOWN_FRAME("intercept-unknown-frame");

    private final String label;

    ReplayProblem(String label) {
        this.label = label;
    }

    /** The name in summaries, reports and metrics, e.g. {@code connect-refused}. */
    public String label() {
        return label;
    }

    /** Every label, in declaration order. */
    public static List<String> labels() {
        return Arrays.stream(values()).map(ReplayProblem::label).toList();
    }

    @Override
    public String toString() {
        return label;
    }
}
