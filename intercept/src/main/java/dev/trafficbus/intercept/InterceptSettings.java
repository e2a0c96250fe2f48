package dev.trafficbus.intercept;

import io.netty.handler.ssl.SslContext;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Everything an {@link Intercept} needs, already checked.
 *
 * @param interfaceName  the interface to capture on
 * @param filter         the BPF filter selecting the test server's responses
 * @param listen         where replayers connect
 * @param token          the shared token replayers must present; null accepts any (only with --no-auth)
 * @param tls            server TLS context, or null for plain TCP
 * @param withPayload    relay the TCP payload as well as the headers
 * @param holdTime       how long a response waits for its route
 * @param maxQueue       packets that may wait per replayer connection
 * @param statusInterval how often the status line is logged; zero disables it
 * @param helloTimeout   how long a new connection may take to send HELLO
 */
public record InterceptSettings(String interfaceName, String filter, InetSocketAddress listen, AccessToken token,
                                SslContext tls, boolean withPayload, Duration holdTime, int maxQueue,
                                Duration statusInterval, Duration helloTimeout) {
    /** Packets the hold area keeps at most, whatever the hold time. */
    public static final int HOLD_MAX_PACKETS = 65536;
    /** Bytes the hold area keeps at most. */
    public static final long HOLD_MAX_BYTES = 32L << 20;
}
