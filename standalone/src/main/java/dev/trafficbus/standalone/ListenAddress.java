package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;

/** A host:port to listen on; port 0 means "pick a free port". */
public record ListenAddress(String host, int port) {
    /** The broker's usual address, 127.0.0.1:9092. */
    public static final ListenAddress DEFAULT = new ListenAddress("127.0.0.1", 9092);

    /** Parses "host:port" (IPv6 hosts in brackets); a bad value is a {@link UserInputException} naming it. */
    public static ListenAddress parse(String text) {
        int colon = text == null ? -1 : text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new UserInputException("'" + text + "' is not host:port (e.g. 127.0.0.1:9092)");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UserInputException("'" + text + "' has no valid port number");
        }
        if (port < 0 || port > 65535) {
            throw new UserInputException("'" + text + "': port must be 0..65535");
        }
        return new ListenAddress(host, port);
    }

    /** host:port, with brackets around an IPv6 host. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
