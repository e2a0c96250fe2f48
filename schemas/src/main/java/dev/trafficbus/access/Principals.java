package dev.trafficbus.access;

import java.util.regex.Pattern;

/** Kafka principals as users write them: {@code User:team-a} or a bare {@code team-a}. */
public final class Principals {
    /** The principal type of SASL users. */
    public static final String USER_TYPE = "User";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,200}");

    private Principals() {
    }

    /**
     * {@code User:<name>} for a bare user name or a {@code User:} principal; refuses anything else with a message
     * that shows the accepted forms.
     */
    public static String normalize(String principal) {
        String p = principal == null ? "" : principal.trim();
        String name = p.startsWith(USER_TYPE + ":") ? p.substring(USER_TYPE.length() + 1) : p;
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + principal + "' is not a principal: use User:NAME or a bare user "
                    + "name of letters, digits, '.', '_', '@' and '-'");
        }
        return USER_TYPE + ":" + name;
    }

    /** The user name of a {@code User:} principal (its part after the type). */
    public static String userName(String principal) {
        String p = normalize(principal);
        return p.substring(USER_TYPE.length() + 1);
    }
}
