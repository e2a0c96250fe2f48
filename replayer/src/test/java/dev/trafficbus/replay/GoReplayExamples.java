package dev.trafficbus.replay;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** GoReplay's example middlewares, extracted at test time from its source archive beside the project, if any. */
final class GoReplayExamples {
    private GoReplayExamples() {
    }

    /** The extracted {@code examples/middleware} folder, or null when no archive is at hand. */
    static Path extract(Path dir) throws Exception {
        Path peers = Path.of("..", "..", "shared", "peers");
        if (!Files.isDirectory(peers)) {
            peers = Path.of("/work/shared/peers");
        }
        if (!Files.isDirectory(peers)) {
            return null;
        }
        Path archive;
        try (Stream<Path> s = Files.list(peers)) {
            archive = s.filter(p -> p.getFileName().toString().matches("goreplay-.*\\.tar\\.gz")).findFirst().orElse(null);
        }
        if (archive == null) {
            return null;
        }
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", dir.toString(), "--wildcards",
                "*examples/middleware/*").inheritIO().start();
        if (!tar.waitFor(60, TimeUnit.SECONDS) || tar.exitValue() != 0) {
            throw new IllegalStateException("cannot extract " + archive);
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.endsWith(Path.of("examples", "middleware")) && Files.isDirectory(p))
                    .findFirst().orElse(null);
        }
    }

    /** True when {@code program} is on the PATH. */
    static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }
}
