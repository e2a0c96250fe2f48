package dev.trafficbus.replay.tls;

import dev.trafficbus.cli.UserInputException;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.util.concurrent.TimeUnit;

/**
 * The client side of every TLS connection of a run: one {@link SslContext} (certificates and keys read once),
 * and a fresh {@link SslHandler} per connection with its server name.
 */
public final class TlsClient {
    private final SslContext context;
    private final SslProvider provider;
    private final TargetTls settings;
    private final long handshakeTimeoutMillis;

    /** Reads the files of {@code settings}; a bad file is a {@link UserInputException} naming it. */
    public TlsClient(TargetTls settings, long handshakeTimeoutMillis) {
        this.settings = settings;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.provider = switch (settings.provider()) {
            case "openssl" -> {
                if (!OpenSsl.isAvailable()) {
                    throw new UserInputException("--tls-provider openssl: the native library does not load here ("
                            + OpenSsl.unavailabilityCause() + "); use --tls-provider jdk");
                }
                yield SslProvider.OPENSSL;
            }
            case "jdk" -> SslProvider.JDK;
            default -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider)
                // Only http/1.1 until HTTP/2 is replayed: a target choosing h2 would get HTTP/1 bytes.
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1));
        if (settings.insecure()) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        } else {
            b.endpointIdentificationAlgorithm("HTTPS");
            if (settings.caFile() != null) {
                b.trustManager(settings.caFile().toFile());
            }
        }
        try {
            if (settings.certFile() != null) {
                b.keyManager(settings.certFile().toFile(), settings.keyFile().toFile());
            }
            this.context = b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new UserInputException("TLS files cannot be used (" + files() + "): " + rootMessage(e)
                    + "; give PEM certificates and a PKCS#8 PEM key (openssl pkcs8 -topk8 -nocrypt)", e);
        }
    }

    /** A handler for one connection to {@code port}, offering {@code serverName} (SNI, and the name verified). */
    public SslHandler handler(ByteBufAllocator alloc, String serverName, int port) {
        SslHandler h = context.newHandler(alloc, serverName, port);
        h.setHandshakeTimeout(handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
        return h;
    }

    /** The name offered when neither --tls-server-name nor the session says one: the target's host. */
    public String serverName(byte[] firstMessage, String hostOverride, String targetHost) {
        if (settings.serverName() != null) {
            return settings.serverName();
        }
        String h = hostOverride != null ? ServerNames.stripPort(hostOverride) : ServerNames.hostHeader(firstMessage);
        return h != null ? h : targetHost;
    }

    /** True when certificates are not checked (--insecure). */
    public boolean insecure() {
        return settings.insecure();
    }

    /** "OpenSSL" or "JDK". */
    public String providerName() {
        return provider == SslProvider.OPENSSL ? "OpenSSL" : "JDK";
    }

    private String files() {
        StringBuilder sb = new StringBuilder();
        if (settings.caFile() != null) {
            sb.append("--target-ca ").append(settings.caFile());
        }
        if (settings.certFile() != null) {
            sb.append(sb.isEmpty() ? "" : ", ").append("--tls-cert ").append(settings.certFile())
                    .append(", --tls-key ").append(settings.keyFile());
        }
        return sb.toString();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }
}
