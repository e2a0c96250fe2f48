package dev.trafficbus.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The Kafka connection options every component shares (a picocli mixin): where the brokers are and any client
 * setting passed through unchanged (SASL, SSL, compression...). Add with {@code @Mixin KafkaClientOptions kafka;}.
 */
public final class KafkaClientOptions {
    private static final String METRIC_REPORTERS = "metric.reporters";

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Kafka brokers to connect to.")
    String bootstrapServers;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...) applied to every client.")
    Path kafkaConfig;

    @Option(names = {"--kafka-property"}, paramLabel = "KEY=VALUE",
            description = "One Kafka client property; repeatable; wins over --kafka-config.")
    List<String> kafkaProperties = new ArrayList<>();

    /** The brokers given with --bootstrap-servers. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Sets the brokers (for components wired in-process, such as standalone). */
    public KafkaClientOptions bootstrapServers(String servers) {
        this.bootstrapServers = servers;
        return this;
    }

    /** Adds one KEY=VALUE property as if given with --kafka-property. */
    public KafkaClientOptions property(String keyValue) {
        kafkaProperties.add(keyValue);
        return this;
    }

    /**
     * The client properties: the --kafka-config file, then each --kafka-property, then bootstrap.servers, and no
     * JMX metrics unless metric.reporters was given.
     * A missing file or a property without '=' is a user error naming the option.
     */
    public Properties toProperties() {
        Properties props = new Properties();
        if (kafkaConfig != null) {
            try (Reader in = Files.newBufferedReader(kafkaConfig)) {
                props.load(in);
            } catch (NoSuchFileException e) {
                throw new UserInputException("--kafka-config " + kafkaConfig + ": no such file", e);
            } catch (IOException | IllegalArgumentException e) {
                throw new UserInputException("--kafka-config " + kafkaConfig + ": cannot read: " + e.getMessage(), e);
            }
        }
        for (String kv : kafkaProperties) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new UserInputException("--kafka-property '" + kv + "' is not KEY=VALUE, e.g. --kafka-property compression.type=zstd");
            }
            props.setProperty(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new UserInputException("no Kafka address given; use --bootstrap-servers HOST:PORT");
        }
        props.setProperty("bootstrap.servers", bootstrapServers);
        // Kafka's clients register every metric as a JMX MBean by default; trafficbus reads none of them (its
        // commands export their own figures), and starting the platform MBean server and registering them costs
        // each client start 40 ms of CPU. --kafka-property metric.reporters=org.apache.kafka.common.metrics.JmxReporter
        // brings them back.
        props.putIfAbsent(METRIC_REPORTERS, "");
        KafkaErrors.clientsUse(props);
        return props;
    }
}
