package dev.trafficbus.subscription;

import dev.trafficbus.cli.UserInputException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** Reads a subscriptions file given on the command line; every problem is a one-line user error. */
final class SubscriptionFile {
    private SubscriptionFile() {
    }

    static List<Subscription> read(String option, Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserInputException(option + " " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UserInputException(option + " " + file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return SubscriptionParser.parseAll(text);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(option + " " + file + ": " + e.getMessage(), e);
        }
    }
}
