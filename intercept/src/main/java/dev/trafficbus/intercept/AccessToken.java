package dev.trafficbus.intercept;

import dev.trafficbus.cli.UserInputException;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;

/** The shared secret replayers present in HELLO, read from a file (surrounding whitespace and newlines ignored). */
public final class AccessToken {
    private final byte[] secret;

    private AccessToken(byte[] secret) {
        this.secret = secret;
    }

    /** Reads the token from {@code file}; a missing, unreadable or empty file is a user error naming {@code option}. */
    public static AccessToken fromFile(Path file, String option) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserInputException(option + " " + file + ": no such file");
        } catch (MalformedInputException e) {
            throw new UserInputException(option + " " + file + ": not UTF-8 text; put a printable token in it"
                    + " (e.g. head -c 32 /dev/urandom | base64)");
        } catch (IOException e) {
            throw new UserInputException(option + " " + file + ": cannot read: " + e.getMessage());
        }
        // trim(), as the replayer does with the same file: both must present the same bytes
        byte[] bytes = text.trim().getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0) {
            throw new UserInputException(option + " " + file + ": the file is empty; put the shared token in it");
        }
        if (bytes.length > 0xFFFF) {
            throw new UserInputException(option + " " + file + ": the token is longer than 65535 bytes");
        }
        return new AccessToken(bytes);
    }

    /** A token from its bytes (tests, embedding). */
    public static AccessToken of(byte[] secret) {
        return new AccessToken(secret.clone());
    }

    /** True when {@code presented} is the token; takes the same time wherever the first difference is. */
    public boolean matches(byte[] presented) {
        return MessageDigest.isEqual(secret, presented);
    }
}
