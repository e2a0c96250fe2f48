package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The server settings of a secured embedded broker: clients log in with SCRAM-SHA-512 on the client listener and
 * are authorized by the standard authorizer; the broker and its controller talk over loopback listeners with PLAIN
 * as {@value SaslUsers#ADMIN} and a password made for this start, so inter-broker and controller traffic never
 * depends on SCRAM credentials that are only written once the broker runs.
 */
final class BrokerSecurity {
    /** Listener for the users of the file. */
    static final String CLIENTS = "CLIENTS";
    /** Loopback listener of the broker itself (inter-broker requests, set-up). */
    static final String INTERNAL = "INTERNAL";
    static final String MECHANISM = "SCRAM-SHA-512";
    private static final int SCRAM_ITERATIONS = 8192;
    private static final long SYNC_TIMEOUT_MS = 30_000;

    private BrokerSecurity() {
    }

    /** {@code plain} (the PLAINTEXT settings) turned into the secured ones. */
    static Properties serverProperties(Properties plain, ListenAddress listen, String advertisedHost,
                                       int controllerPort, int internalPort) {
        Properties p = new Properties();
        p.putAll(plain);
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String internalPassword = HexFormat.of().formatHex(secret);
        String plainJaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + SaslUsers.ADMIN + "\" password=\"" + internalPassword + "\" user_" + SaslUsers.ADMIN + "=\""
                + internalPassword + "\";";
        p.put("listeners", CLIENTS + "://" + listen + "," + INTERNAL + "://127.0.0.1:" + internalPort
                + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", CLIENTS + "://" + advertisedHost + ":" + listen.port() + "," + INTERNAL
                + "://127.0.0.1:" + internalPort);
        p.put("listener.security.protocol.map", CLIENTS + ":SASL_PLAINTEXT," + INTERNAL + ":SASL_PLAINTEXT,"
                + "CONTROLLER:SASL_PLAINTEXT");
        p.put("inter.broker.listener.name", INTERNAL);
        p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put("listener.name.clients.sasl.enabled.mechanisms", MECHANISM);
        p.put("listener.name.clients.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        p.put("listener.name.internal.sasl.enabled.mechanisms", "PLAIN");
        p.put("listener.name.internal.plain.sasl.jaas.config", plainJaas);
        p.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        p.put("listener.name.controller.plain.sasl.jaas.config", plainJaas);
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + SaslUsers.ADMIN);
        p.put("allow.everyone.if.no.acl.found", "false");
        return p;
    }

    /** Admin-client settings for the broker's own loopback listener, from the server settings. */
    static Properties setupClient(Properties server) {
        String internal = null;
        for (String l : server.getProperty("advertised.listeners").split(",")) {
            if (l.startsWith(INTERNAL + "://")) {
                internal = l.substring(INTERNAL.length() + 3);
            }
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", internal);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "PLAIN");
        p.put("sasl.jaas.config", server.getProperty("listener.name.internal.plain.sasl.jaas.config")
                .replaceAll(" user_\\S+=\"[^\"]*\"", ""));
        return p;
    }

    /**
     * Makes the broker's SCRAM users those of the file: upserts every user's password, deletes users no longer
     * listed, and waits until the broker knows them all (a login before that would be refused).
     */
    static void syncUsers(Properties setupClient, SaslUsers users) {
        try (Admin admin = Admin.create(setupClient)) {
            List<UserScramCredentialAlteration> changes = new ArrayList<>();
            for (Map.Entry<String, String> u : users.passwords().entrySet()) {
                changes.add(new UserScramCredentialUpsertion(u.getKey(),
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), u.getValue()));
            }
            for (UserScramCredentialsDescription d : admin.describeUserScramCredentials().all()
                    .get(SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS).values()) {
                if (!users.passwords().containsKey(d.name())) {
                    changes.add(new UserScramCredentialDeletion(d.name(), ScramMechanism.SCRAM_SHA_512));
                }
            }
            admin.alterUserScramCredentials(changes).all().get(SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SYNC_TIMEOUT_MS);
            while (admin.describeUserScramCredentials(List.copyOf(users.passwords().keySet())).all()
                    .get(SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS).size() < users.passwords().size()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the SCRAM users of " + users.file()
                            + " were not visible on the broker after " + SYNC_TIMEOUT_MS / 1000 + " s");
                }
                Thread.sleep(100);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write the SCRAM users of " + users.file() + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the embedded broker did not store the SCRAM users of " + users.file()
                    + " within " + SYNC_TIMEOUT_MS / 1000 + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserInputException("interrupted while writing the SCRAM users", e);
        }
    }
}
