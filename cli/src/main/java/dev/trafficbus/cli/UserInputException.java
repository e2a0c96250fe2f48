package dev.trafficbus.cli;

/**
 * A problem with what the user gave (a missing file, a bad option, an unreachable broker): reported as
 * one line naming the input and the fix, with exit code 2 and no stack trace.
 */
public class UserInputException extends RuntimeException {
    public UserInputException(String message) {
        super(message);
    }

    public UserInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
