package dev.trafficbus.cli;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides which configuration values are secrets, so that {@code --print-config} (and anything else that echoes a
 * configuration) can show every setting without leaking credentials.
 */
public final class SecretMask {
    /** What a secret value is shown as. */
    public static final String MASK = "****";

    private static final Set<String> SECRET_WORDS = Set.of("password", "passwd", "secret", "token", "jaas",
            "credential", "credentials", "passphrase");
    // key.serializer, default.key.serde and friends name classes, not keys.
    private static final Pattern NOT_A_KEY = Pattern.compile("(^|[.\\-_])key[.\\-_]((de)?serializer|serde)$");

    private SecretMask() {
    }

    /**
     * True when a setting named {@code name} (an option name like {@code --token} or a Kafka property key like
     * {@code ssl.key.password} or {@code sasl.jaas.config}) holds a secret.
     */
    public static boolean isSecret(String name) {
        String n = name.toLowerCase(Locale.ROOT).replaceFirst("^-+", "");
        if (NOT_A_KEY.matcher(n).find()) {
            return false;
        }
        if (n.endsWith("user.info")) {
            return true; // user:password pairs, e.g. basic.auth.user.info
        }
        for (String word : n.split("[.\\-_]")) {
            if (word.isEmpty()) {
                continue;
            }
            for (String secret : SECRET_WORDS) {
                if (word.contains(secret)) {
                    return true;
                }
            }
            if (word.endsWith("key")) {
                return true; // key, apikey, privatekey, ssl.keystore.key (but not keystore.location)
            }
        }
        return false;
    }

    /** {@code value}, or {@link #MASK} when {@code name} is a secret (null stays null). */
    public static String show(String name, String value) {
        return value == null || !isSecret(name) ? value : MASK;
    }

    /** A {@code KEY=VALUE} pair with the value masked when the key is a secret. */
    public static String showPair(String keyValue) {
        int eq = keyValue.indexOf('=');
        if (eq <= 0) {
            return keyValue;
        }
        String key = keyValue.substring(0, eq).trim();
        return key + "=" + show(key, keyValue.substring(eq + 1));
    }
}
