package dev.trafficbus.replay.tls;

import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

/** The TLS options of {@code replay} and {@code standalone}: picocli mixin that makes a {@link TargetTls}. */
public final class TlsOptions {
    @Option(names = "--target-tls",
            description = "Speak TLS to the target (implied by --target https://HOST:PORT); socket engine only. "
                    + "The handshake must end within --response-timeout (or --connect-timeout if longer). "
                    + "ALPN offers h2 to sessions captured as HTTP/2, http/1.1 to the others (tls-alpn-refused if not chosen).")
    boolean tls;

    @Option(names = "--tls-server-name", paramLabel = "NAME",
            description = "SNI and the name the target's certificate must carry (default: each session's first "
                    + "Host header, after --http-host, else the target's host).")
    String serverName;

    @Option(names = "--target-ca", paramLabel = "FILE",
            description = "Trust the CA certificates in this PEM file instead of the JVM's.")
    Path caFile;

    @Option(names = "--insecure",
            description = "Trust any certificate and name of the target; every such connection is counted "
                    + "as tls-unverified in the summary and the report.")
    boolean insecure;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Client certificate chain (PEM) for targets that ask for one (mTLS); needs --tls-key.")
    Path certFile;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "Private key of --tls-cert (PEM, PKCS#8).")
    Path keyFile;

    @Option(names = "--tls-provider", defaultValue = "auto", paramLabel = "auto|openssl|jdk",
            description = "TLS implementation: auto takes OpenSSL (BoringSSL, bundled) when it loads, else the JDK's (default: ${DEFAULT-VALUE}).")
    String provider;

    @Option(names = "--tls-full-handshakes",
            description = "Every session makes a full TLS handshake; by default sessions resume the TLS session the "
                    + "target issued to an earlier one (ticket or id), as returning clients do.")
    boolean fullHandshakes;

    /**
     * The TLS settings for {@code target} (as typed), or null for plain TCP; a TLS option without TLS is a
     * {@link UserInputException}.
     */
    public TargetTls settings(String target) {
        boolean on = tls || isHttps(target);
        if (!on) {
            if (serverName != null || caFile != null || insecure || certFile != null || keyFile != null || fullHandshakes) {
                throw new UserInputException("TLS options need a TLS target: use --target https://HOST:PORT or add --target-tls");
            }
            return null;
        }
        return new TargetTls(serverName, caFile, insecure, certFile, keyFile, provider, !fullHandshakes);
    }

    /**
     * Reads the certificate files of {@code tls} now (null: nothing to do), so a bad file stops the run before
     * anything is consumed, and says on stderr which TLS implementation runs and whether certificates are checked.
     */
    public static void check(TargetTls tls, java.time.Duration handshakeTimeout) {
        if (tls == null) {
            return;
        }
        TlsClient c = new TlsClient(tls, handshakeTimeout.toMillis(), new TlsHandshakes());
        System.err.println("TLS to the target with " + c.providerName() + (tls.insecure()
                ? "; WARNING: --insecure, the target's certificate is not checked (counted as tls-unverified)" : ""));
    }

    /** True when the target is written https://HOST:PORT. */
    public static boolean isHttps(String target) {
        return target != null && target.trim().toLowerCase(Locale.ROOT).startsWith("https://");
    }
}
