package dev.trafficbus.replay.middleware;

import dev.trafficbus.cli.UserInputException;

import java.time.Duration;

/**
 * The {@code --middleware} of a run: the command line (run by {@code sh -c}, so quoting, arguments and
 * environment variables work as in a shell) and how long a request may wait for it.
 *
 * @param command   the command line, e.g. {@code python3 add_header.py}
 * @param timeout   longest wait for one request to come back
 * @param responses the program is also given the production and the replayed answers
 */
public record MiddlewareCommand(String command, Duration timeout, boolean responses) {
    public MiddlewareCommand {
        if (command == null || command.isBlank()) {
            throw new UserInputException("--middleware needs a command, e.g. --middleware 'python3 echo.py'");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new UserInputException("--middleware-timeout must be positive, e.g. 1s");
        }
    }
}
