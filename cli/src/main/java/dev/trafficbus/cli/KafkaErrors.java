package dev.trafficbus.cli;

import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;

import java.util.Locale;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Kafka's refusals (wrong SASL credentials, an untrusted certificate, a missing ACL) into the one-line user
 * error every command prints, instead of a stack trace or a generic failure. {@link CommandRunner} applies it to
 * whatever a command throws; code that catches Kafka exceptions itself calls {@link #refusal(Throwable)}.
 */
public final class KafkaErrors {
    /** Whom the broker sees: the user of the process's client settings (one per command run). */
    private static volatile String principal = "User:ANONYMOUS";
    private static final Pattern JAAS_USER = Pattern.compile("username\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)'|([^\\s;]+))");

    private KafkaErrors() {
    }

    /**
     * Records whose credentials this process's clients use, so a refusal names the principal; called with the
     * settings every command builds its clients from ({@link KafkaClientOptions#toProperties()}).
     */
    public static void clientsUse(Properties clientConfig) {
        principal = principalOf(clientConfig);
    }

    /**
     * The principal a client with these settings presents: {@code User:<username>} of its SASL login, or a
     * description of whom the broker sees when the settings carry no user name.
     */
    static String principalOf(Properties clientConfig) {
        String protocol = clientConfig.getProperty("security.protocol", "PLAINTEXT").trim().toUpperCase(Locale.ROOT);
        String jaas = clientConfig.getProperty("sasl.jaas.config");
        if (protocol.startsWith("SASL") && jaas != null) {
            Matcher m = JAAS_USER.matcher(jaas);
            if (m.find()) {
                return "User:" + (m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
            }
            return "the SASL user of --kafka-config";
        }
        if (protocol.equals("SSL")) {
            return "the principal of the TLS client certificate";
        }
        return "User:ANONYMOUS";
    }

    /**
     * The refusal found in {@code error}'s cause chain as a {@link UserInputException} naming the fix, or null when
     * the chain holds no Kafka authentication or authorization error.
     */
    public static UserInputException refusal(Throwable error) {
        return refusal(error, null);
    }

    /**
     * Like {@link #refusal(Throwable)}, for a caller that knows which operation it asked for ({@code operation}; null
     * lets the error's shape tell: a producer writes, an admin call describes, a consumer reads).
     */
    public static UserInputException refusal(Throwable error, AclOperation operation) {
        return refusal(error, operation, null);
    }

    /**
     * Like {@link #refusal(Throwable, AclOperation)} for a call on the topic {@code topic}: admin calls' refusals do
     * not name the topic they refuse, so the caller does.
     */
    public static UserInputException refusal(Throwable error, AclOperation operation, String topic) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AuthenticationException) {
                return new UserInputException("Kafka refused the credentials: " + describe(t)
                        + "; check --kafka-config (security.protocol, sasl.*, ssl.*)", t);
            }
            if (t instanceof AuthorizationException) {
                return new UserInputException("Kafka denied " + principal + " " + denied(t, operation, error, topic)
                        + "; an administrator grants it (a subscription's readers, or 'trafficbus acls')", t);
            }
        }
        return null;
    }

    /** Throws {@link #refusal(Throwable)} when there is one; returns normally otherwise. */
    public static void throwIfRefused(Throwable error) {
        throwIfRefused(error, null);
    }

    /** Throws {@link #refusal(Throwable, AclOperation)} when there is one; returns normally otherwise. */
    public static void throwIfRefused(Throwable error, AclOperation operation) {
        throwIfRefused(error, operation, null);
    }

    /** Throws {@link #refusal(Throwable, AclOperation, String)} when there is one; returns normally otherwise. */
    public static void throwIfRefused(Throwable error, AclOperation operation, String topic) {
        UserInputException refusal = refusal(error, operation, topic);
        if (refusal != null) {
            throw refusal;
        }
    }

    /** "READ on topic tb.sub.team-a": the missing operation and the resources Kafka named. */
    private static String denied(Throwable t, AclOperation operation, Throwable whole, String topic) {
        Client client = Client.of(whole);
        if (t instanceof TopicAuthorizationException e && e.unauthorizedTopics().isEmpty() && topic != null) {
            t = new TopicAuthorizationException(java.util.Set.of(topic));
        }
        if (t instanceof TopicAuthorizationException e && !e.unauthorizedTopics().isEmpty()) {
            AclOperation op = operation != null ? operation : client == Client.PRODUCER ? AclOperation.WRITE
                    : client == Client.ADMIN ? AclOperation.DESCRIBE : AclOperation.READ;
            TreeSet<String> topics = new TreeSet<>(e.unauthorizedTopics());
            return name(op) + " on topic" + (topics.size() > 1 ? "s " : " ") + String.join(", ", topics);
        }
        if (t instanceof TopicAuthorizationException) {
            AclOperation op = operation != null ? operation : client == Client.PRODUCER ? AclOperation.WRITE
                    : client == Client.ADMIN ? AclOperation.DESCRIBE : AclOperation.READ;
            return name(op) + " on a topic (Kafka did not name it: " + oneLine(t.getMessage()) + ")";
        }
        if (t instanceof GroupAuthorizationException e) {
            AclOperation op = operation != null ? operation : AclOperation.READ;
            return name(op) + " on group " + (e.groupId() != null ? e.groupId() : "(" + oneLine(e.getMessage()) + ")");
        }
        if (t instanceof TransactionalIdAuthorizationException) {
            return name(operation != null ? operation : AclOperation.WRITE) + " on the transactional id ("
                    + oneLine(t.getMessage()) + ")";
        }
        if (t instanceof ClusterAuthorizationException) {
            AclOperation op = operation != null ? operation
                    : client == Client.PRODUCER ? AclOperation.IDEMPOTENT_WRITE : AclOperation.ALTER;
            return name(op) + " on the cluster";
        }
        return (operation != null ? name(operation) + ": " : "access: ") + describe(t);
    }

    private static String name(AclOperation op) {
        return op.name().toUpperCase(Locale.ROOT);
    }

    /** Which kind of client failed, from the frames of the exceptions that wrap Kafka's (its own carry none). */
    private enum Client {
        PRODUCER, ADMIN, OTHER;

        static Client of(Throwable error) {
            for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
                String message = String.valueOf(t.getMessage());
                if (message.contains("sending record") || message.contains("send record")) {
                    return PRODUCER; // Kafka Streams' record collector
                }
                for (StackTraceElement frame : t.getStackTrace()) {
                    String c = frame.getClassName();
                    if (c.startsWith("org.apache.kafka.clients.producer.")) {
                        return PRODUCER;
                    }
                    if (c.startsWith("org.apache.kafka.clients.admin.") || c.startsWith("org.apache.kafka.common.internals.KafkaFutureImpl")) {
                        return ADMIN;
                    }
                }
            }
            return OTHER;
        }
    }

    /** The exception's message plus its deepest cause's (an SSL handshake hides the reason there), on one line. */
    private static String describe(Throwable t) {
        String message = oneLine(t.getMessage());
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != t && root.getMessage() != null) {
            String rootMessage = oneLine(root.getMessage());
            if (!message.contains(rootMessage)) {
                message = message + " (" + rootMessage + ")";
            }
        }
        return message.isEmpty() ? t.getClass().getSimpleName() : message;
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String line = s.replaceAll("\\s+", " ").trim();
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
