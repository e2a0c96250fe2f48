package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.DurationConverter;
import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.Option;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The replay options of the {@code tcp} session engine (a picocli mixin: {@code @Mixin TcpEngineOptions tcp;}). */
public final class TcpEngineOptions {
    /** How many disjoint blocks of fake client ports exist; {@code --instance} picks one. */
    public static final int INSTANCE_BLOCKS = ClientEndpoints.BLOCKS;

    @Option(names = "--engine", defaultValue = "socket", paramLabel = "socket|tcp",
            description = "socket: ordinary connections to the target; tcp: raw packets from fake client addresses, "
                    + "answers relayed by intercept (default: ${DEFAULT-VALUE}).")
    String engine = "socket";

    @Option(names = "--client-range", paramLabel = "CIDR",
            description = "tcp engine: fake client addresses, e.g. 10.99.0.0/16; the test server routes it via the intercept host.")
    String clientRange;

    @Option(names = "--intercept", paramLabel = "HOST:PORT[,HOST:PORT...]", split = ",",
            description = "tcp engine: intercept servers that relay the test server's answers (default port 36524).")
    List<String> intercept = new ArrayList<>();

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "tcp engine: file holding the shared token intercept expects.")
    File tokenFile;

    @Option(names = "--intercept-ca", paramLabel = "FILE",
            description = "tcp engine: PEM certificate(s) to trust for intercept; when given the channel uses TLS.")
    File interceptCa;

    @Option(names = "--mtu", defaultValue = "1500", paramLabel = "BYTES",
            description = "tcp engine: path MTU; larger segments are split (default: ${DEFAULT-VALUE}).")
    int mtu = 1500;

    @Option(names = "--instance", paramLabel = "0-" + (ClientEndpoints.BLOCKS - 1),
            description = "tcp engine: replayer instance number; instances sharing a client range must differ "
                    + "(default: derived from host name and process id).")
    Integer instance;

    @Option(names = "--handshake-timeout", defaultValue = "5s", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "tcp engine: longest wait for the test server's SYN-ACK, SYN retransmits included (default: ${DEFAULT-VALUE}).")
    Duration handshakeTimeout = Duration.ofSeconds(5);

    @Option(names = "--idle-timeout", defaultValue = "60s", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "tcp engine: a replayed connection with no progress for this long is reset (default: ${DEFAULT-VALUE}).")
    Duration idleTimeout = Duration.ofSeconds(60);

    /** True when {@code --engine tcp} was chosen. */
    public boolean tcpEngine() {
        return "tcp".equals(engine == null ? "socket" : engine.trim().toLowerCase(Locale.ROOT));
    }

    /** Checks the options; a problem is a {@link UserInputException} naming the option. */
    public void validate() {
        String e = engine == null ? "socket" : engine.trim().toLowerCase(Locale.ROOT);
        if (!e.equals("socket") && !e.equals("tcp")) {
            throw new UserInputException("--engine '" + engine + "' is not valid: use socket or tcp");
        }
        if (!tcpEngine()) {
            return;
        }
        if (clientRange == null || clientRange.isBlank()) {
            throw new UserInputException("--engine tcp needs --client-range CIDR, e.g. 10.99.0.0/16 (routed via the intercept host)");
        }
        clientRange();
        if (intercept == null || intercept.isEmpty()) {
            throw new UserInputException("--engine tcp needs --intercept HOST:PORT of at least one intercept server");
        }
        interceptAddresses();
        if (tokenFile != null && !tokenFile.isFile()) {
            throw new UserInputException("--token-file " + tokenFile + " does not exist or is not a file");
        }
        if (interceptCa != null && !interceptCa.isFile()) {
            throw new UserInputException("--intercept-ca " + interceptCa + " does not exist or is not a file");
        }
        if (mtu < 576 || mtu > 65535) {
            throw new UserInputException("--mtu must be between 576 and 65535, got " + mtu);
        }
        if (instance != null && (instance < 0 || instance >= ClientEndpoints.BLOCKS)) {
            throw new UserInputException("--instance must be between 0 and " + (ClientEndpoints.BLOCKS - 1) + ", got " + instance);
        }
    }

    /** The parsed {@code --client-range}. */
    public ClientRange clientRange() {
        return ClientRange.parse(clientRange);
    }

    /** The parsed {@code --intercept} addresses, resolved. */
    public List<InetSocketAddress> interceptAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String s : intercept) {
            String t = s.trim();
            if (t.isEmpty()) {
                continue;
            }
            String host = t;
            int port = dev.trafficbus.intercept.frame.InterceptFrames.DEFAULT_PORT;
            int colon = t.lastIndexOf(':');
            if (colon > 0 && (t.indexOf(':') == colon || t.startsWith("["))) {
                host = t.substring(0, colon);
                try {
                    port = Integer.parseInt(t.substring(colon + 1));
                } catch (NumberFormatException ex) {
                    port = -1;
                }
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (port < 1 || port > 65535) {
                throw new UserInputException("--intercept '" + s + "' has no valid port (1-65535)");
            }
            // InetAddress would read "10.1" as 10.0.0.1: all-numeric hosts must be whole dotted quads.
            if (host.matches("[0-9.]+") && !host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
                throw new UserInputException("--intercept '" + s + "' needs a full address a.b.c.d or a host name");
            }
            try {
                out.add(new InetSocketAddress(InetAddress.getByName(host), port));
            } catch (UnknownHostException ex) {
                throw new UserInputException("--intercept host '" + host + "' cannot be resolved", ex);
            }
        }
        if (out.isEmpty()) {
            throw new UserInputException("--intercept names no address; use HOST:PORT");
        }
        return out;
    }

    /** The token to present to intercept (empty when no {@code --token-file}). */
    public String token() {
        if (tokenFile == null) {
            return "";
        }
        try {
            return Files.readString(tokenFile.toPath()).trim();
        } catch (java.io.IOException ex) {
            throw new UserInputException("cannot read --token-file " + tokenFile + ": " + ex.getMessage(), ex);
        }
    }

    /** The instance number: {@code --instance}, or one derived from host name and process id. */
    public int instanceOrDefault() {
        if (instance != null) {
            return instance;
        }
        return Math.floorMod(ManagementFactory.getRuntimeMXBean().getName().hashCode(), ClientEndpoints.BLOCKS);
    }

    /** {@code --mtu}. */
    public int mtu() {
        return mtu;
    }

    /** {@code --intercept-ca}, or null for a plain channel. */
    public File interceptCa() {
        return interceptCa;
    }

    /** {@code --handshake-timeout}. */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** {@code --idle-timeout}. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Options for tests and embedding: tcp engine with the given range and intercepts. */
    public static TcpEngineOptions of(String clientRange, List<String> intercepts, File tokenFile, int instance) {
        TcpEngineOptions o = new TcpEngineOptions();
        o.engine = "tcp";
        o.clientRange = clientRange;
        o.intercept = new ArrayList<>(intercepts);
        o.tokenFile = tokenFile;
        o.instance = instance;
        return o;
    }
}
