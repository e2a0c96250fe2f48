package dev.trafficbus.replay.tls;

import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.replay.intake.ReplayCounters;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;

/** Names why a TLS connection to the target failed, in the replay's one problem vocabulary. */
public final class TlsFailures {
    private TlsFailures() {
    }

    /**
     * What a finished handshake means for the session: null when it succeeded (counted {@code tls-unverified} in
     * {@code unverified} when that is not null), else the failure to report, a handshake failure all the same when
     * the connection was closed or reset during it.
     */
    public static Throwable handshakeFailure(SslHandshakeCompletionEvent e, ReplayCounters unverified) {
        if (e.isSuccess()) {
            if (unverified != null) {
                unverified.problem(ReplayProblem.TLS_UNVERIFIED);
            }
            return null;
        }
        if (classify(e.cause()) != null) {
            return e.cause();
        }
        SSLHandshakeException h = new SSLHandshakeException("TLS handshake failed: " + e.cause());
        h.initCause(e.cause());
        return h;
    }

    /** The TLS problem {@code cause} is, or null when it is not a TLS failure. */
    public static ReplayProblem classify(Throwable cause) {
        boolean tls = false;
        StringBuilder text = new StringBuilder();
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AlpnCheck.AlpnRefusedException) {
                return ReplayProblem.TLS_ALPN_REFUSED;
            }
            if (t instanceof NotSslRecordException) {
                return ReplayProblem.TLS_PROTOCOL;
            }
            if (t instanceof SslHandshakeTimeoutException) {
                return ReplayProblem.TLS_HANDSHAKE_FAILED;
            }
            if (t instanceof CertPathValidatorException || t.getClass().getName().endsWith("SunCertPathBuilderException")) {
                return ReplayProblem.TLS_UNTRUSTED_CERTIFICATE;
            }
            tls |= t instanceof SSLException || t instanceof CertificateException;
            text.append(' ').append(t.getMessage());
        }
        if (!tls) {
            return null;
        }
        String m = text.toString().toLowerCase(Locale.ROOT);
        if (m.contains("no_application_protocol") || m.contains("no application protocol")) {
            return ReplayProblem.TLS_ALPN_REFUSED; // the target's alert: it speaks none of the protocols offered
        }
        if (m.contains("no subject alternative") || m.contains("no name matching") || m.contains("hostname")) {
            return ReplayProblem.TLS_HOSTNAME_MISMATCH;
        }
        if (m.contains("pkix") || m.contains("certification path") || m.contains("unknown_ca")
                || m.contains("unable to get local issuer") || m.contains("self signed") || m.contains("self-signed")) {
            return ReplayProblem.TLS_UNTRUSTED_CERTIFICATE;
        }
        if (m.contains("protocol_version") || m.contains("no appropriate protocol") || m.contains("wrong_version")
                || m.contains("no cipher") || m.contains("unsupported protocol") || m.contains("not an ssl")) {
            return ReplayProblem.TLS_PROTOCOL;
        }
        return ReplayProblem.TLS_HANDSHAKE_FAILED;
    }
}
