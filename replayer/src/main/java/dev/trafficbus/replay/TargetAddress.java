package dev.trafficbus.replay;

import dev.trafficbus.cli.UserInputException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

/** Parses and checks the {@code --target HOST:PORT} of a replay. */
public final class TargetAddress {
    private TargetAddress() {
    }

    /**
     * "host:port", "1.2.3.4:80" or "[::1]:80", resolved, optionally written as http://… or https://… (the scheme
     * says whether to speak TLS: {@code TlsOptions}); anything else is a {@link UserInputException}.
     */
    public static InetSocketAddress parse(String text) {
        String t = withoutScheme(text == null ? "" : text.trim());
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new UserInputException("--target '" + text + "' is not valid: use HOST:PORT, e.g. 127.0.0.1:8080");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new UserInputException("--target '" + text + "' is not valid: write IPv6 addresses as [ADDRESS]:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new UserInputException("--target '" + text + "' has no valid port (1-65535)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new UserInputException("--target host '" + host + "' cannot be resolved", e);
        }
    }

    private static String withoutScheme(String t) {
        String lower = t.toLowerCase(java.util.Locale.ROOT);
        for (String scheme : new String[] {"https://", "http://"}) {
            if (lower.startsWith(scheme)) {
                String rest = t.substring(scheme.length());
                return rest.endsWith("/") ? rest.substring(0, rest.length() - 1) : rest;
            }
        }
        return t;
    }

    /** Opens and closes one connection, so a wrong target fails before anything is consumed. */
    static void checkReachable(InetSocketAddress target, int timeoutMillis) {
        checkReachable(target, timeoutMillis, "start the test server or fix the address");
    }

    /** As {@link #checkReachable(InetSocketAddress, int)}, with {@code fix} telling the user what to do when refused. */
    public static void checkReachable(InetSocketAddress target, int timeoutMillis, String fix) {
        try (Socket s = new Socket()) {
            s.connect(target, timeoutMillis);
        } catch (ConnectException e) {
            throw new UserInputException("cannot connect to --target " + show(target)
                    + " (connection refused); " + fix, e);
        } catch (SocketTimeoutException e) {
            throw new UserInputException("cannot connect to --target " + show(target) + " within "
                    + timeoutMillis + " ms", e);
        } catch (IOException e) {
            throw new UserInputException("cannot connect to --target " + show(target) + ": " + e.getMessage(), e);
        }
    }

    /** host:port of a resolved address, with brackets around an IPv6 host. */
    public static String show(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
