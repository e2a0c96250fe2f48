package dev.trafficbus.cli;

import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * Turns Kafka's refusals (wrong SASL credentials, an untrusted certificate, a missing ACL) into the one-line user
 * error every command prints, instead of a stack trace or a generic failure. {@link CommandRunner} applies it to
 * whatever a command throws; code that catches Kafka exceptions itself calls {@link #refusal(Throwable)}.
 */
public final class KafkaErrors {
    private KafkaErrors() {
    }

    /**
     * The refusal found in {@code error}'s cause chain as a {@link UserInputException} naming the fix, or null when
     * the chain holds no Kafka authentication or authorization error.
     */
    public static UserInputException refusal(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AuthenticationException) {
                return new UserInputException("Kafka refused the credentials: " + describe(t)
                        + "; check --kafka-config (security.protocol, sasl.*, ssl.*)", t);
            }
            if (t instanceof AuthorizationException) {
                return new UserInputException("Kafka denied access: " + describe(t)
                        + "; check the ACLs of this principal and --kafka-config", t);
            }
        }
        return null;
    }

    /** Throws {@link #refusal(Throwable)} when there is one; returns normally otherwise. */
    public static void throwIfRefused(Throwable error) {
        UserInputException refusal = refusal(error);
        if (refusal != null) {
            throw refusal;
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
