package dev.trafficbus.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The .deb this build made, and the systemd units it ships. */
final class DebianPackage {
    static final List<String> UNITS = List.of("trafficbus-forward@.service", "trafficbus-process.service",
            "trafficbus-intercept.service", "trafficbus-replay@.service");

    private DebianPackage() {
    }

    static Path file() throws IOException {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("trafficbus.target")))) {
            List<Path> debs = files.filter(f -> f.getFileName().toString().matches("trafficbus_.*_all\\.deb")).toList();
            assertThat(debs).as("the .deb 'mvn package' builds").hasSize(1);
            return debs.get(0);
        }
    }
}
