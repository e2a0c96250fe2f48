package dev.trafficbus.standalone;

import dev.trafficbus.access.Principals;
import dev.trafficbus.cli.UserInputException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The users of a secured embedded broker, read from a file of {@code user:password} lines (blank lines and lines
 * starting with {@code #} are skipped). The user {@value #ADMIN} must be there: it is the broker's super user.
 */
public final class SaslUsers {
    /** The super user, who grants everybody else's ACLs. */
    public static final String ADMIN = "admin";

    private final Path file;
    private final Map<String, String> passwords;

    private SaslUsers(Path file, Map<String, String> passwords) {
        this.file = file;
        this.passwords = Collections.unmodifiableMap(passwords);
    }

    /** Reads and checks the file; every problem is a user error naming the file and the line. */
    public static SaslUsers read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserInputException("--sasl-users " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UserInputException("--sasl-users " + file + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, String> users = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "--sasl-users " + file + " line " + (i + 1) + ": ";
            int colon = line.indexOf(':');
            if (colon <= 0 || colon == line.length() - 1) {
                throw new UserInputException(where + "expected user:password");
            }
            String user = line.substring(0, colon);
            String password = line.substring(colon + 1);
            try {
                Principals.normalize(user);
            } catch (IllegalArgumentException e) {
                throw new UserInputException(where + "user " + e.getMessage());
            }
            if (user.contains(":")) {
                throw new UserInputException(where + "a user name has no ':'");
            }
            if (password.contains("\"") || password.contains("\\")) {
                // Both end or escape the quoted password of a JAAS line, the form clients and the broker read.
                throw new UserInputException(where + "the password of " + user + " holds '\"' or '\\'; choose another");
            }
            if (users.put(user, password) != null) {
                throw new UserInputException(where + "user " + user + " is given twice");
            }
        }
        if (!users.containsKey(ADMIN)) {
            throw new UserInputException("--sasl-users " + file + ": no line for '" + ADMIN
                    + "', the super user who grants the others' access (add " + ADMIN + ":PASSWORD)");
        }
        return new SaslUsers(file, users);
    }

    /** Passwords by user name, in file order. */
    public Map<String, String> passwords() {
        return passwords;
    }

    /** The file the users came from. */
    public Path file() {
        return file;
    }

    /** The JAAS line with which a client logs in as {@code user} over SCRAM. */
    public String jaas(String user) {
        return scramJaas(user, passwords.get(user));
    }

    /**
     * The client settings with which {@code user} connects (what goes into {@code --kafka-config}), without
     * bootstrap.servers.
     */
    public Properties clientProperties(String user) {
        if (!passwords.containsKey(user)) {
            throw new IllegalArgumentException("no user " + user + " in " + file);
        }
        Properties p = new Properties();
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", BrokerSecurity.MECHANISM);
        p.put("sasl.jaas.config", jaas(user));
        return p;
    }

    /** The JAAS line of a SCRAM login. */
    public static String scramJaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }
}
