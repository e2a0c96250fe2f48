package dev.trafficbus.security;

import dev.trafficbus.standalone.EmbeddedBroker;
import dev.trafficbus.standalone.ListenAddress;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * A real single-node broker with one secured listener (SASL_PLAINTEXT with SCRAM-SHA-512, or SSL) beside the
 * PLAINTEXT one the test uses for set-up (creating SCRAM users) and the controller.
 */
final class SecuredBroker implements AutoCloseable {
    private final EmbeddedBroker broker;
    private final String securedAddress;

    private SecuredBroker(EmbeddedBroker broker, String securedAddress) {
        this.broker = broker;
        this.securedAddress = securedAddress;
    }

    /** A broker with a SASL_PLAINTEXT listener accepting SCRAM-SHA-512, and the user {@code user} with {@code password}. */
    static SecuredBroker scram(String user, String password) throws Exception {
        int port = freePort();
        Properties extra = new Properties();
        extra.put("listeners", "SASL_PLAINTEXT://127.0.0.1:" + port);
        extra.put("advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:" + port);
        extra.put("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT");
        extra.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        extra.put("listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        SecuredBroker b = new SecuredBroker(EmbeddedBroker.start(new ListenAddress("127.0.0.1", 0), null, extra),
                "127.0.0.1:" + port);
        try (Admin admin = Admin.create(b.plaintextProperties())) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password))).all().get();
            // The credential reaches the SASL listener through the metadata log; wait until it is visible.
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (admin.describeUserScramCredentials(List.of(user)).all().get().isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("SCRAM user " + user + " not visible after 30 s");
                }
                Thread.sleep(100);
            }
        } catch (Exception e) {
            b.close();
            throw e;
        }
        return b;
    }

    /** A broker with an SSL listener presenting the certificate of {@code keyStore} (PKCS12, {@link TestCertificates#PASSWORD}). */
    static SecuredBroker ssl(Path keyStore) {
        int port = freePort();
        Properties extra = new Properties();
        extra.put("listeners", "SSL://127.0.0.1:" + port);
        extra.put("advertised.listeners", "SSL://127.0.0.1:" + port);
        extra.put("listener.security.protocol.map", "SSL:SSL");
        extra.put("ssl.keystore.type", "PKCS12");
        extra.put("ssl.keystore.location", keyStore.toString());
        extra.put("ssl.keystore.password", TestCertificates.PASSWORD);
        extra.put("ssl.key.password", TestCertificates.PASSWORD);
        return new SecuredBroker(EmbeddedBroker.start(new ListenAddress("127.0.0.1", 0), null, extra), "127.0.0.1:" + port);
    }

    /** host:port of the secured listener. */
    String securedAddress() {
        return securedAddress;
    }

    /** host:port of the unsecured listener, for set-up only. */
    String plaintextAddress() {
        return broker.bootstrapServers();
    }

    Properties plaintextProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", plaintextAddress());
        return p;
    }

    /** Writes a client properties file (what a user passes with --kafka-config). */
    static Path clientConfig(Path dir, String name, String... keyValues) throws IOException {
        Properties p = new Properties();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.put(keyValues[i], keyValues[i + 1]);
        }
        Path file = dir.resolve(name + ".properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            p.store(out, "client settings for " + name);
        }
        return file;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on 127.0.0.1", e);
        }
    }

    @Override
    public void close() {
        broker.close();
    }
}
