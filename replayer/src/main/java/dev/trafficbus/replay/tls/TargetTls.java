package dev.trafficbus.replay.tls;

import dev.trafficbus.cli.UserInputException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a replay speaks TLS to the target: one TLS connection per captured session, on either engine.
 *
 * @param serverName SNI and the name the certificate must carry, or null to take each session's Host header
 * @param caFile     PEM certificates to trust instead of the JVM's, or null
 * @param insecure   trust any certificate and any name (counted as {@code tls-unverified} per connection)
 * @param certFile   PEM client certificate chain for mTLS, or null
 * @param keyFile    PEM PKCS#8 private key of {@code certFile}, or null
 * @param provider   {@code auto} (OpenSSL when its native library loads, else the JDK's), {@code openssl} or {@code jdk}
 * @param resume     sessions resume the TLS session the target issued to an earlier one (false: every session
 *                   a full handshake)
 */
public record TargetTls(String serverName, Path caFile, boolean insecure, Path certFile, Path keyFile,
                        String provider, boolean resume) {
    /** Checks that the files exist and the options fit together; a {@link UserInputException} otherwise. */
    public TargetTls {
        if (serverName != null && (serverName.isBlank() || serverName.chars().anyMatch(c -> c <= ' ' || c == '/' || c == ':'))) {
            throw new UserInputException("--tls-server-name '" + serverName + "' is not a host name");
        }
        if ((certFile == null) != (keyFile == null)) {
            throw new UserInputException("--tls-cert and --tls-key go together: give both for a client certificate");
        }
        if (insecure && caFile != null) {
            throw new UserInputException("--insecure trusts any certificate: drop --target-ca, or drop --insecure");
        }
        provider = provider == null ? "auto" : provider.toLowerCase(java.util.Locale.ROOT);
        if (!java.util.List.of("auto", "openssl", "jdk").contains(provider)) {
            throw new UserInputException("--tls-provider '" + provider + "' is not one of auto, openssl, jdk");
        }
        readable(caFile, "--target-ca");
        readable(certFile, "--tls-cert");
        readable(keyFile, "--tls-key");
    }

    /** Plain TLS: the JVM's trusted certificates, SNI from each session, no client certificate. */
    public static TargetTls verified() {
        return new TargetTls(null, null, false, null, null, "auto", true);
    }

    private static void readable(Path p, String option) {
        if (p != null && !Files.isReadable(p)) {
            throw new UserInputException(option + " " + p + " cannot be read: give a PEM file");
        }
    }
}
