package dev.trafficbus.dist;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A PATH like the test's own, without Maven: each directory holding {@code mvn} is replaced by a directory of links
 * to everything else in it, so an installed copy is shown to run with a JRE and the usual tools only.
 */
final class MavenFreePath {
    private static final Set<String> MAVEN = Set.of("mvn", "mvnDebug", "mvnyjp");

    private MavenFreePath() {
    }

    static String create(Path scratch) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path dir = Path.of(entry.isEmpty() ? "." : entry);
            if (!Files.isDirectory(dir) || MAVEN.stream().noneMatch(name -> Files.exists(dir.resolve(name)))) {
                entries.add(entry);
                continue;
            }
            // Readable by all: a test may run the command as another user.
            Path shadow = Files.createTempDirectory(scratch, "path-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String name = file.getFileName().toString();
                    if (!MAVEN.contains(name)) {
                        Files.createSymbolicLink(shadow.resolve(name), file.toAbsolutePath());
                    }
                }
            }
            entries.add(shadow.toString());
        }
        return String.join(File.pathSeparator, entries);
    }
}
