package dev.trafficbus.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The example configuration in deploy/ (what docker-compose.yml runs) is accepted by the commands as they are:
 * every key is an option, every value parses. Checked with {@code --print-config}, which reads and validates the
 * file without connecting anywhere.
 */
class DeployConfigTest {
    /** What docker-compose.yml puts in every component's environment. */
    private static final Map<String, String> COMPOSE_ENV = Map.of("TRAFFICBUS_BOOTSTRAP_SERVERS", "kafka:9092");

    @Test
    void forwardAcceptsItsConfig() {
        String out = PrintConfig.of("forward", deployDir().resolve("forward.yaml"), COMPOSE_ENV);
        assertThat(PrintConfig.line(out, "--pcap")).contains("/opt/trafficbus/examples/capture.pcap").contains("file ");
        assertThat(PrintConfig.line(out, "--port")).contains("8080");
        assertThat(PrintConfig.line(out, "--bootstrap-servers")).contains("kafka:9092")
                .contains("env TRAFFICBUS_BOOTSTRAP_SERVERS");
    }

    @Test
    void replayAcceptsItsConfig() {
        String out = PrintConfig.of("replay", deployDir().resolve("replay.yaml"), COMPOSE_ENV);
        assertThat(PrintConfig.line(out, "--topic")).contains("tb.sub.example");
        assertThat(PrintConfig.line(out, "--target")).contains("test-server:80");
    }

    @Test
    void processAcceptsItsConfig() {
        PrintConfig.of("process", deployDir().resolve("process.yaml"), COMPOSE_ENV);
    }

    @Test
    void interceptAcceptsItsConfig() {
        PrintConfig.of("intercept", deployDir().resolve("intercept.yaml"), COMPOSE_ENV);
    }

    @Test
    void clientPropertiesExamplesNameRealKafkaSettings() throws IOException {
        var known = org.apache.kafka.clients.producer.ProducerConfig.configNames();
        try (var files = Files.list(deployDir())) {
            List<Path> examples = files.filter(f -> f.getFileName().toString().endsWith(".properties")).toList();
            assertThat(examples).isNotEmpty();
            for (Path f : examples) {
                java.util.Properties p = new java.util.Properties();
                try (var in = Files.newBufferedReader(f)) {
                    p.load(in);
                }
                assertThat(known).as(f.toString()).containsAll(p.stringPropertyNames());
            }
        }
    }

    static Path deployDir() {
        return PrintConfig.checkout().resolve("deploy");
    }
}
