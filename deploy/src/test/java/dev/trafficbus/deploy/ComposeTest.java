package dev.trafficbus.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker-compose.yml as docker-compose itself reads it (Debian's docker-compose validates and resolves a file
 * without a Docker engine): valid, and every trafficbus service runs the image the Dockerfile builds, with its
 * config from deploy/, instead of a mounted checkout.
 */
class ComposeTest {
    private static final List<String> COMPONENTS = List.of("forwarder", "processor", "replayer", "intercept");

    @Test
    void composeAcceptsTheFile() throws Exception {
        Tool.Result r = compose("config", "-q");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output().strip()).as("no warnings").isEmpty();
    }

    @Test
    void everyComponentRunsTheBuiltImageWithItsConfig() throws Exception {
        Tool.Result r = compose("config");
        assertThat(r.exit()).as(r.output()).isZero();
        JsonNode services = new ObjectMapper(new YAMLFactory()).readTree(r.output()).path("services");
        Path checkout = PrintConfig.checkout().toRealPath();
        String image = "trafficbus:" + System.getProperty("trafficbus.version").replace("-SNAPSHOT", "");
        for (String name : COMPONENTS) {
            JsonNode s = services.path(name);
            assertThat(s.path("image").asText()).as(name).isEqualTo(image);
            assertThat(Path.of(s.path("build").path("context").asText()).toRealPath()).as(name + " builds the Dockerfile")
                    .isEqualTo(checkout);
            assertThat(s.has("entrypoint")).as(name + ": the image's entrypoint").isFalse();
            List<String> volumes = new ArrayList<>();
            s.path("volumes").forEach(v -> volumes.add(v.asText()));
            assertThat(volumes).as(name + " mounts its configs, not the checkout")
                    .containsExactly(checkout.resolve("deploy") + ":/config:ro");
            List<String> command = new ArrayList<>();
            s.path("command").forEach(c -> command.add(c.asText()));
            assertThat(command).as(name).hasSize(3).element(1).isEqualTo("--config");
            String config = command.get(2);
            assertThat(config).startsWith("/config/");
            assertThat(checkout.resolve("deploy").resolve(config.substring("/config/".length()))).isRegularFile();
        }
        JsonNode intercept = services.path("intercept");
        assertThat(intercept.path("user").asText()).as("capabilities are effective for root only").isEqualTo("0");
        List<String> added = new ArrayList<>();
        intercept.path("cap_add").forEach(c -> added.add(c.asText()));
        assertThat(added).containsExactlyInAnyOrder("NET_RAW", "NET_ADMIN");
        assertThat(intercept.path("cap_drop").get(0).asText()).isEqualTo("ALL");
    }

    private static Tool.Result compose(String... args) throws Exception {
        Tool compose = Tool.require("docker-compose",
                "Debian package docker-compose, apt-get install --no-install-recommends docker-compose",
                "docker-compose.yml");
        List<String> all = new ArrayList<>(List.of("-f", "docker-compose.yml"));
        all.addAll(List.of(args));
        return compose.run(all.toArray(String[]::new));
    }
}
