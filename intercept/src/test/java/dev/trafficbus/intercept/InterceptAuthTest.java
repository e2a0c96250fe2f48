package dev.trafficbus.intercept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.FrameWriter;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.intercept.frame.Route;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** Who may use intercept: the shared token, the HELLO-first rule and TLS, against a real listener in a namespace. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterceptAuthTest {
    private static final String TOKEN = "s3cret-token";
    private static AssistNetwork net;

    @TempDir
    static Path dir;

    @BeforeAll
    static void network() throws Exception {
        Assumptions.assumeTrue(NetNamespaces.root(), "needs root to create network namespaces and capture");
        net = AssistNetwork.create();
    }

    @AfterAll
    static void cleanup() {
        if (net != null) {
            net.close();
        }
    }

    private static Intercept start(io.netty.handler.ssl.SslContext tls) throws Exception {
        return start(tls, Duration.ofSeconds(10));
    }

    private static Intercept start(io.netty.handler.ssl.SslContext tls, Duration helloTimeout) throws Exception {
        InterceptSettings s = new InterceptSettings(AssistNetwork.ASSIST_IF, "tcp",
                new InetSocketAddress(AssistNetwork.ASSIST_IP, 0), AccessToken.of(TOKEN.getBytes(StandardCharsets.UTF_8)),
                tls, false, Duration.ofMillis(500), 1000, Duration.ZERO, helloTimeout);
        return NetNamespaces.in(net.assist, () -> Intercept.start(s, new InterceptCounters()));
    }

    private static FrameClient plain(Intercept intercept) throws Exception {
        return NetNamespaces.in(net.client, () -> {
            java.net.Socket s = new java.net.Socket();
            s.connect(intercept.listenAddress(), 3000);
            return new FrameClient(s);
        });
    }

    private static String refusal(FrameClient c) throws Exception {
        ByteBuffer frame = c.next(3000);
        assertThat(frame).as("an answer before the close").isNotNull();
        assertThat(FrameReader.type(frame)).as(FrameClient.describe(frame)).isEqualTo(InterceptFrames.REFUSED);
        String reason = FrameReader.readRefused(frame);
        assertThat(c.closedWithin(3000)).as("closed after REFUSED").isTrue();
        return reason;
    }

    @Test
    void aWrongOrMissingTokenIsRefusedCountedAndClosed() throws Exception {
        try (Intercept intercept = start(null)) {
            try (FrameClient c = plain(intercept)) {
                c.hello("s3cret-tokeN", "r1");
                assertThat(refusal(c)).isEqualTo("bad token");
            }
            try (FrameClient c = plain(intercept)) {
                c.hello("", "r2");
                assertThat(refusal(c)).isEqualTo("missing token");
            }
            try (FrameClient c = plain(intercept)) {
                c.hello(TOKEN, "r3");
                ByteBuffer w = c.next(3000);
                assertThat(FrameReader.type(w)).isEqualTo(InterceptFrames.WELCOME);
            }
            assertThat(intercept.counters().refused(RefusalReason.BAD_TOKEN)).isEqualTo(2);
            assertThat(intercept.counters().clientsAccepted()).isEqualTo(3);
        }
    }

    @Test
    void framesSplitAcrossReadsOrSharingOneAreEachHandled() throws Exception {
        byte[] token = TOKEN.getBytes(StandardCharsets.UTF_8);
        ByteBuffer hello = ByteBuffer.allocate(FrameWriter.helloSize(token, "split"));
        FrameWriter.hello(hello, token, "split");
        Route route = Route.parse("10.99.0.0/16");
        ByteBuffer two = ByteBuffer.allocate(FrameWriter.routeSize(route) + FrameWriter.HEADER);
        FrameWriter.register(two, route);
        FrameWriter.ping(two);
        try (Intercept intercept = start(null); FrameClient c = plain(intercept)) {
            byte[] h = java.util.Arrays.copyOf(hello.array(), hello.position());
            c.sendRaw(java.util.Arrays.copyOfRange(h, 0, 2)); // inside the length prefix
            Thread.sleep(50);
            c.sendRaw(java.util.Arrays.copyOfRange(h, 2, 9));
            Thread.sleep(50);
            c.sendRaw(java.util.Arrays.copyOfRange(h, 9, h.length));
            ByteBuffer w = c.next(3000);
            assertThat(FrameReader.type(w)).as(FrameClient.describe(w)).isEqualTo(InterceptFrames.WELCOME);
            c.sendRaw(java.util.Arrays.copyOf(two.array(), two.position())); // REGISTER and PING in one write
            long deadline = System.currentTimeMillis() + 3000;
            while (intercept.statusLine().contains("routes 0") && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertThat(intercept.statusLine()).contains("routes 1");
            assertThat(c.closedWithin(200)).as("still connected after the PING").isFalse();
            assertThat(intercept.counters().refused(RefusalReason.PROTOCOL)).isZero();
        }
    }

    private static FrameClient welcomed(Intercept intercept, String name) throws Exception {
        FrameClient c = plain(intercept);
        c.hello(TOKEN, name);
        ByteBuffer w = c.next(3000);
        assertThat(FrameReader.type(w)).as(FrameClient.describe(w)).isEqualTo(InterceptFrames.WELCOME);
        return c;
    }

    private static void awaitRoutes(Intercept intercept, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 3000;
        while (!intercept.statusLine().contains("routes " + n) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertThat(intercept.statusLine()).contains("routes " + n);
    }

    @Test
    void aSecondReplayerOverlappingAnotherOnesRouteIsRefusedButAReconnectTakesOver() throws Exception {
        try (Intercept intercept = start(null); FrameClient first = welcomed(intercept, "replay-3@100@host-a")) {
            first.register(Route.parse("10.99.0.0/16:6144-10239"));
            awaitRoutes(intercept, 1);
            try (FrameClient other = welcomed(intercept, "replay-3@200@host-b")) { // same --instance, other run
                other.register(Route.parse("10.99.0.0/16:6144-10239"));
                assertThat(refusal(other)).startsWith("route 10.99.0.0/16:6144-10239 overlaps the route of replayer"
                        + " replay-3@100@host-a (connected from 10.77.0.4:").endsWith("); give each replayer its own"
                        + " --instance");
            }
            assertThat(intercept.counters().refused(RefusalReason.ROUTE_CONFLICT)).isEqualTo(1);
            assertThat(first.closedWithin(200)).as("the first replayer keeps its connection").isFalse();
            awaitRoutes(intercept, 1);

            try (FrameClient neighbour = welcomed(intercept, "replay-4@300@host-b")) { // next port block: no overlap
                neighbour.register(Route.parse("10.99.0.0/16:10240-14335"));
                awaitRoutes(intercept, 2);
                assertThat(neighbour.closedWithin(200)).isFalse();
            }
            awaitRoutes(intercept, 1);
            // the same replayer reconnecting before its old connection is seen dead takes its route over
            try (FrameClient again = welcomed(intercept, "replay-3@100@host-a")) {
                again.register(Route.parse("10.99.0.0/16:6144-10239"));
                awaitRoutes(intercept, 2);
                assertThat(again.closedWithin(200)).isFalse();
            }
            assertThat(intercept.counters().refused(RefusalReason.ROUTE_CONFLICT)).isEqualTo(1);
        }
    }

    @Test
    void aConnectionMustStartWithHelloInTime() throws Exception {
        try (Intercept intercept = start(null, Duration.ofMillis(700))) {
            try (FrameClient c = plain(intercept)) {
                c.sendRaw(new byte[] {0, 0, 0, 1, InterceptFrames.PING});
                assertThat(refusal(c)).contains("first frame must be HELLO");
            }
            try (FrameClient c = plain(intercept)) {
                c.sendRaw(new byte[] {(byte) 0x7f, 0, 0, 0}); // a length far over the limit
                assertThat(refusal(c)).contains("protocol error");
            }
            try (FrameClient c = plain(intercept)) {
                c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0}); // unsigned: too long
                assertThat(refusal(c)).contains("protocol error");
            }
            try (FrameClient c = plain(intercept)) {
                // within the protocol's 1 MiB but larger than any HELLO: refused at once, not buffered until the
                // HELLO deadline
                c.sendRaw(new byte[] {0, 3, 0, 0, InterceptFrames.HELLO});
                assertThat(refusal(c)).contains("protocol error: frame longer than");
            }
            try (FrameClient c = plain(intercept)) { // says nothing
                assertThat(refusal(c)).contains("no HELLO within 700 ms");
            }
            InterceptCounters counters = intercept.counters();
            assertThat(counters.refused(RefusalReason.PROTOCOL)).isEqualTo(4);
            assertThat(counters.refused(RefusalReason.NO_HELLO)).isEqualTo(1);
        }
    }

    @Test
    void tlsWithATrustedCertificateWorksAndAnUntrustedOneIsRejectedByTheClient() throws Exception {
        Path cert = dir.resolve("intercept.pem");
        Path key = dir.resolve("intercept.key");
        Path other = dir.resolve("other.pem");
        selfSigned(cert, key, "IP:" + AssistNetwork.ASSIST_IP);
        selfSigned(other, dir.resolve("other.key"), "IP:" + AssistNetwork.ASSIST_IP);
        try (Intercept intercept = start(SslContextBuilder.forServer(cert.toFile(), key.toFile()).build())) {
            try (FrameClient c = tls(intercept, cert)) {
                c.hello(TOKEN, "tls-replayer");
                ByteBuffer w = c.next(3000);
                assertThat(FrameReader.type(w)).isEqualTo(InterceptFrames.WELCOME);
            }
            assertThatThrownBy(() -> {
                try (FrameClient c = tls(intercept, other)) {
                    c.hello(TOKEN, "fooled-replayer");
                }
            }).isInstanceOf(SSLHandshakeException.class).hasMessageContaining("PKIX path");
            long deadline = System.currentTimeMillis() + 3000;
            while (intercept.counters().refused(RefusalReason.TLS) == 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertThat(intercept.counters().refused(RefusalReason.TLS)).isEqualTo(1);

            // plain TCP to a TLS listener does not get in either
            try (FrameClient c = plain(intercept)) {
                c.hello(TOKEN, "plain-replayer");
                assertThat(c.closedWithin(3000)).isTrue();
            }
        }
    }

    private static FrameClient tls(Intercept intercept, Path trusted) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(trusted)) {
            store.setCertificateEntry("intercept", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return NetNamespaces.in(net.client, () -> {
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
            SSLParameters params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the address
            s.setSSLParameters(params);
            s.connect(intercept.listenAddress(), 3000);
            s.setSoTimeout(3000);
            s.startHandshake();
            return new FrameClient(s);
        });
    }

    private static void selfSigned(Path cert, Path key, String san) throws Exception {
        NetNamespaces.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=intercept", "-addext", "subjectAltName=" + san,
                "-keyout", key.toString(), "-out", cert.toString());
    }
}
