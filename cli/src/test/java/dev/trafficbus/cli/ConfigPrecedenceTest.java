package dev.trafficbus.cli;

import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigPrecedenceTest {
    @TempDir
    Path dir;

    /** A command shaped like the real ones: the Kafka mixin, a default, a list, a flag and a secret. */
    @Command(name = "probe", mixinStandardHelpOptions = true)
    static final class Probe implements Callable<Integer> {
        @Mixin
        KafkaClientOptions kafka;
        @Option(names = "--speed", defaultValue = "1")
        String speed;
        @Option(names = "--group")
        String group;
        @Option(names = "--port", split = ",")
        List<Integer> ports = new ArrayList<>();
        @Option(names = "--until-end")
        boolean untilEnd;
        @Option(names = "--token")
        String token;
        @Option(names = "--token-file")
        Path tokenFile;
        boolean ran;
        Properties kafkaProps;
        RuntimeException toThrow;

        @Override
        public Integer call() {
            ran = true;
            if (toThrow != null) {
                throw toThrow;
            }
            kafkaProps = kafka.toProperties();
            return 0;
        }
    }

    /** Alternatives in a required group, like forward's --pcap | --interface. */
    @Command(name = "alternatives")
    static final class Alternatives implements Callable<Integer> {
        static final class Input {
            @Option(names = "--pcap", required = true)
            Path pcap;
            @Option(names = "--interface", required = true)
            String iface;
        }

        @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        Input input;
        @Option(names = "--promisc")
        boolean promisc;

        @Override
        public Integer call() {
            return 0;
        }
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(Object probe, Map<String, String> env, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            int code = CommandRunner.runWithEnvironment(env, probe, args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private Path file(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void commandLineWinsOverFileWhichWinsOverEnvironmentWhichWinsOverDefault() throws Exception {
        Path config = file("probe.yaml", """
                bootstrap-servers: file-kafka:9092
                speed: 2.5
                port: [80, 8080]
                kafka-property:
                  compression.type: zstd
                  linger.ms: 5
                """);
        Probe probe = new Probe();
        Run r = run(probe, Map.of("TRAFFICBUS_BOOTSTRAP_SERVERS", "env-kafka:9092", "TRAFFICBUS_SPEED", "9",
                        "TRAFFICBUS_GROUP", "env-group", "TRAFFICBUS_UNTIL_END", "true"),
                "--config", config.toString(), "--bootstrap-servers", "cli-kafka:9092");
        assertThat(r.code).as(r.err).isZero();
        assertThat(probe.kafka.bootstrapServers()).isEqualTo("cli-kafka:9092");
        assertThat(probe.speed).isEqualTo("2.5");
        assertThat(probe.group).isEqualTo("env-group");
        assertThat(probe.untilEnd).isTrue();
        assertThat(probe.ports).containsExactly(80, 8080);
        assertThat(probe.kafkaProps).containsEntry("compression.type", "zstd").containsEntry("linger.ms", "5")
                .containsEntry("bootstrap.servers", "cli-kafka:9092");
        assertThat(probe.token).isNull();
    }

    @Test
    void environmentAloneConfiguresACommandAndDefaultsStay() {
        Probe probe = new Probe();
        Run r = run(probe, Map.of("TRAFFICBUS_BOOTSTRAP_SERVERS", "env-kafka:9092",
                "TRAFFICBUS_KAFKA_PROPERTY", "acks=all,compression.type=lz4", "TRAFFICBUS_PORT", "443,8443"));
        assertThat(r.code).as(r.err).isZero();
        assertThat(probe.kafka.bootstrapServers()).isEqualTo("env-kafka:9092");
        assertThat(probe.speed).isEqualTo("1");
        assertThat(probe.ports).containsExactly(443, 8443);
        assertThat(probe.kafkaProps).containsEntry("acks", "all").containsEntry("compression.type", "lz4");
    }

    @Test
    void aListOnTheCommandLineReplacesTheFileListInsteadOfAddingToIt() throws Exception {
        Path config = file("probe.yaml", "bootstrap-servers: k:9092\nport: [80, 8080]\n");
        Probe probe = new Probe();
        Run r = run(probe, Map.of(), "--config=" + config, "--port", "9000");
        assertThat(r.code).as(r.err).isZero();
        assertThat(probe.ports).containsExactly(9000);
    }

    @Test
    void aRequiredGroupOfAlternativesFollowsTheSamePrecedence() throws Exception {
        Path config = file("alt.yaml", "pcap: /data/capture.pcap\n");
        Alternatives fromFile = new Alternatives();
        Run r = run(fromFile, Map.of("TRAFFICBUS_INTERFACE", "eth9", "TRAFFICBUS_PROMISC", "true"), "--config", config.toString());
        assertThat(r.code).as(r.err).isZero();
        assertThat(fromFile.input.pcap).isEqualTo(Path.of("/data/capture.pcap"));
        assertThat(fromFile.input.iface).isNull();
        assertThat(fromFile.promisc).isTrue();

        Alternatives fromCommandLine = new Alternatives();
        r = run(fromCommandLine, Map.of("TRAFFICBUS_INTERFACE", "eth9"), "--config", config.toString(), "--interface", "eth0");
        assertThat(r.code).as(r.err).isZero();
        assertThat(fromCommandLine.input.iface).isEqualTo("eth0");
        assertThat(fromCommandLine.input.pcap).isNull();

        Alternatives fromEnv = new Alternatives();
        r = run(fromEnv, Map.of("TRAFFICBUS_INTERFACE", "eth9"));
        assertThat(r.code).as(r.err).isZero();
        assertThat(fromEnv.input.iface).isEqualTo("eth9");

        Run print = run(new Alternatives(), Map.of(), "--config", config.toString(), "--print-config");
        assertThat(print.code).as(print.err).isZero();
        assertThat(line(print.out, "--pcap")).contains("/data/capture.pcap").contains("file " + config);
    }

    @Test
    void configFileCanComeFromTheEnvironment() throws Exception {
        Path config = file("probe.yaml", "bootstrap-servers: from-env-file:9092\n");
        Probe probe = new Probe();
        Run r = run(probe, Map.of("TRAFFICBUS_CONFIG", config.toString()));
        assertThat(r.code).as(r.err).isZero();
        assertThat(probe.kafka.bootstrapServers()).isEqualTo("from-env-file:9092");
    }

    @Test
    void unknownKeyIsOneLineNamingKeyAndFile() throws Exception {
        Path config = file("probe.yaml", "bootstrap-servers: k:9092\nbootstrap-server: typo:9092\n");
        Probe probe = new Probe();
        Run r = run(probe, Map.of(), "--config", config.toString());
        assertThat(r.code).isEqualTo(CommandRunner.EXIT_USER_ERROR);
        assertThat(probe.ran).isFalse();
        assertThat(r.err.strip()).doesNotContain("\n").contains("'bootstrap-server'").contains(config.toString())
                .startsWith("trafficbus probe: ");
    }

    @Test
    void badFilesAreOneLineErrors() throws Exception {
        Path yaml = file("bad.yaml", "bootstrap-servers: [unclosed\n");
        Run bad = run(new Probe(), Map.of(), "--config", yaml.toString());
        assertThat(bad.code).isEqualTo(2);
        assertThat(bad.err.strip()).doesNotContain("\n").contains("not valid YAML").contains(yaml.toString());

        Run missing = run(new Probe(), Map.of(), "--config", dir.resolve("nope.yaml").toString());
        assertThat(missing.code).isEqualTo(2);
        assertThat(missing.err.strip()).contains("no such file").contains("nope.yaml");

        Path list = file("list.yaml", "bootstrap-servers: k:9092\nspeed: [1, 2]\n");
        Run twoValues = run(new Probe(), Map.of(), "--config", list.toString());
        assertThat(twoValues.code).isEqualTo(2);
        assertThat(twoValues.err).contains("'speed' takes one value");

        Path badValue = file("value.yaml", "bootstrap-servers: k:9092\nport: [eighty]\n");
        Run badPort = run(new Probe(), Map.of(), "--config", badValue.toString());
        assertThat(badPort.code).isEqualTo(2);
        assertThat(badPort.err).contains("eighty").contains("value from file " + badValue);
    }

    @Test
    void printConfigShowsValuesAndOriginsWithSecretsMaskedAndDoesNotRun() throws Exception {
        Path client = file("client.properties", """
                security.protocol=SASL_SSL
                sasl.mechanism=SCRAM-SHA-512
                sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="tb" password="hunter2-jaas";
                ssl.truststore.location=/etc/tb/truststore.p12
                ssl.truststore.password=hunter2-trust
                ssl.key.password=hunter2-key
                key.serializer=org.apache.kafka.common.serialization.ByteArraySerializer
                """);
        Path config = file("probe.yaml", "bootstrap-servers: kafka:9092\ntoken: hunter2-token\nkafka-config: " + client + "\n");
        Probe probe = new Probe();
        Run r = run(probe, Map.of("TRAFFICBUS_GROUP", "team-a"), "--config", config.toString(), "--print-config",
                "--speed", "max", "--token-file", "/run/secrets/tb-token",
                "--kafka-property", "sasl.jaas.config=secret-inline", "--kafka-property", "acks=all");
        assertThat(r.code).as(r.err).isZero();
        assertThat(probe.ran).isFalse();
        assertThat(r.out).doesNotContain("hunter2").doesNotContain("secret-inline");
        assertThat(line(r.out, "--bootstrap-servers")).contains("kafka:9092").contains("file " + config);
        assertThat(line(r.out, "--speed")).contains("max").contains("command line");
        assertThat(line(r.out, "--group")).contains("team-a").contains("env TRAFFICBUS_GROUP");
        assertThat(line(r.out, "--until-end")).contains("false").contains("default");
        assertThat(line(r.out, "--token ")).contains(SecretMask.MASK);
        assertThat(line(r.out, "--token-file")).contains("/run/secrets/tb-token");
        assertThat(line(r.out, "--kafka-property")).contains("sasl.jaas.config=" + SecretMask.MASK).contains("acks=all");
        assertThat(line(r.out, "sasl.jaas.config ")).contains(SecretMask.MASK).contains("kafka-config " + client);
        assertThat(line(r.out, "ssl.key.password")).contains(SecretMask.MASK);
        assertThat(line(r.out, "ssl.truststore.location")).contains("/etc/tb/truststore.p12");
        assertThat(line(r.out, "key.serializer")).contains("ByteArraySerializer");
        assertThat(line(r.out, "security.protocol")).contains("SASL_SSL");
    }

    @Test
    void helpListsTheConfigOptions() {
        Run r = run(new Probe(), Map.of(), "--help");
        assertThat(r.code).isZero();
        assertThat(r.out).contains("--config=FILE").contains("--print-config").contains("TRAFFICBUS_");
    }

    @Test
    void kafkaRefusingCredentialsIsOneLineExitTwo() {
        Probe probe = new Probe();
        probe.toThrow = new IllegalStateException("publishing failed",
                new SaslAuthenticationException("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"));
        Run r = run(probe, Map.of(), "--bootstrap-servers", "k:9092");
        assertThat(r.code).isEqualTo(CommandRunner.EXIT_USER_ERROR);
        assertThat(r.err.strip()).doesNotContain("\n").doesNotContain("\tat ")
                .startsWith("trafficbus probe: Kafka refused the credentials: Authentication failed")
                .contains("check --kafka-config");
    }

    @Test
    void secretNames() {
        assertThat(SecretMask.isSecret("ssl.key.password")).isTrue();
        assertThat(SecretMask.isSecret("sasl.jaas.config")).isTrue();
        assertThat(SecretMask.isSecret("ssl.keystore.key")).isTrue();
        assertThat(SecretMask.isSecret("sasl.oauthbearer.client.credentials.client.secret")).isTrue();
        assertThat(SecretMask.isSecret("--token")).isTrue();
        assertThat(SecretMask.isSecret("--api-key")).isTrue();
        assertThat(SecretMask.isSecret("key.serializer")).isFalse();
        assertThat(SecretMask.isSecret("value.deserializer")).isFalse();
        assertThat(SecretMask.isSecret("default.key.serde")).isFalse();
        assertThat(SecretMask.isSecret("ssl.keystore.location")).isFalse();
        assertThat(SecretMask.isSecret("ssl.keymanager.algorithm")).isFalse();
        assertThat(SecretMask.isSecret("--bootstrap-servers")).isFalse();
        assertThat(SecretMask.isSecret("security.protocol")).isFalse();
    }

    private static String line(String text, String start) {
        return text.lines().filter(l -> l.stripLeading().startsWith(start.stripLeading())).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + start + "' in:\n" + text));
    }
}
