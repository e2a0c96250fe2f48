package dev.trafficbus.replay.tls;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.replay.ReplayOptions;
import dev.trafficbus.replay.ReplayTuning;
import dev.trafficbus.replay.conversation.Http2Reader;
import dev.trafficbus.replay.intake.ReplayCounters;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.util.concurrent.TimeUnit;

/**
 * The client side of every TLS connection of a run: one {@link SslContext} (certificates and keys read once, the
 * sessions the target issued kept per server name and port), and a fresh {@link SslHandler} per connection with its
 * server name, resuming an earlier session where it can ({@link SessionResumption}).
 */
public final class TlsClient {
    private static final String[] CLASSICAL_GROUPS = {"X25519", "P-256", "P-384"};
    private final SslContext context;
    /** The same, offering only h2 by ALPN: for sessions captured as HTTP/2 (its own session cache, so its own order). */
    private final SslContext h2Context;
    private final SslProvider provider;
    private final TargetTls settings;
    private final long handshakeTimeoutMillis;
    private final SessionResumption resumption;
    private final SessionResumption h2Resumption;

    /**
     * Reads the files of {@code settings}; a bad file is a {@link UserInputException} naming it. Handshakes are
     * counted in {@code handshakes}.
     */
    public TlsClient(TargetTls settings, long handshakeTimeoutMillis, TlsHandshakes handshakes) {
        this.settings = settings;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.resumption = new SessionResumption(handshakes, settings.resume());
        this.h2Resumption = new SessionResumption(handshakes, settings.resume());
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
        this.context = build(ApplicationProtocolNames.HTTP_1_1);
        this.h2Context = build(ApplicationProtocolNames.HTTP_2);
    }

    /**
     * The TLS client of a run whose options say TLS toward the target, or null for plain TCP; handshakes are counted
     * in {@code counters}. Both engines make theirs here.
     */
    public static TlsClient of(ReplayOptions options, ReplayTuning tuning, ReplayCounters counters) {
        if (options.tls() == null) {
            return null;
        }
        // The handshake is the target's first answer; queued behind others on a busy loop it takes longer than a
        // connect.
        return new TlsClient(options.tls(), Math.max(tuning.connectTimeout().toMillis(),
                tuning.responseTimeout().toMillis()), counters.tls);
    }

    /**
     * A context offering {@code protocol} alone by ALPN: HTTP/1 bytes to a target that chose h2 (or frames to
     * one that chose http/1.1) would be read as garbage, so a choice of anything else fails the connection
     * ({@link AlpnCheck}).
     */
    private SslContext build(String protocol) {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocol));
        if (provider == SslProvider.OPENSSL) {
            // BoringSSL's default key shares lead with the X25519+ML-KEM-768 hybrid: a 1.2 kB share made for every
            // ClientHello, thrown away by TLS 1.2 targets and by resumptions. The classical groups halve the native
            // handshake time of a replay (JFR: SSL.doHandshake 72 -> 34 samples per run); every TLS 1.2/1.3 server
            // has them.
            b.option(OpenSslContextOption.GROUPS, CLASSICAL_GROUPS);
        }
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
            SslContext built = b.build();
            if (!settings.resume() && built.sessionContext() instanceof OpenSslSessionContext sessions) {
                // Without resumption a connection must not find the session an earlier one stored either (by host
                // and port, TLS 1.3 tickets included): nothing is stored.
                sessions.setSessionCacheEnabled(false);
            }
            return built;
        } catch (SSLException | IllegalArgumentException e) {
            throw new UserInputException("TLS files cannot be used (" + files() + "): " + rootMessage(e)
                    + "; give PEM certificates and a PKCS#8 PEM key (openssl pkcs8 -topk8 -nocrypt)", e);
        }
    }

    /**
     * Adds TLS for one connection to {@code port} at the end of {@code p}, offering {@code serverName} (SNI, the name
     * verified, and the key of the sessions it may resume) and ALPN {@code h2} when {@code firstMessage} (may be
     * null) starts an HTTP/2 session, else {@code http/1.1}; then the check that the target chose it.
     */
    public void addTo(ChannelPipeline p, String serverName, int port, byte[] firstMessage) {
        boolean h2 = firstMessage != null && Http2Reader.startsWithPreface(firstMessage, 0, firstMessage.length);
        SslHandler h = (h2 ? h2Context : context).newHandler(p.channel().alloc(), serverName, port);
        h.setHandshakeTimeout(handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
        (h2 ? h2Resumption : resumption).addTo(p, h, serverName, port);
        p.addLast(new AlpnCheck(h2 ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1));
    }

    /** How long a handshake may take before the connection fails as tls-handshake-failed. */
    public long handshakeTimeoutMillis() {
        return handshakeTimeoutMillis;
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
