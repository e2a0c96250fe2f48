package dev.trafficbus.replay;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** GoReplay's example middlewares, extracted at test time from its source archive beside the project, if any. */
final class GoReplayExamples {
    private GoReplayExamples() {
    }

    /** The extracted {@code examples/middleware} folder, or null when no archive is at hand. */
    static Path extract(Path dir) throws Exception {
        return extract(dir, "*examples/middleware/*");
    }

    /**
     * GoReplay's {@code examples/middleware/token_modifier.go} built with Go (GOPATH mode, from the archive's own
     * {@code proto} package, nothing downloaded), or null when the archive or Go is not at hand.
     */
    static Path buildTokenModifier(Path dir) throws Exception {
        if (!onPath("go")) {
            return null;
        }
        Path examples = extract(dir, "*examples/middleware/*", "*/proto/*", "*/internal/byteutils/*");
        if (examples == null) {
            return null;
        }
        Path gopath = examples.getParent().getParent(); // .../src/github.com/buger/goreplay/examples/middleware
        while (gopath != null && !gopath.getFileName().toString().equals("src")) {
            gopath = gopath.getParent();
        }
        if (gopath == null) {
            return null;
        }
        Path binary = dir.resolve("token_modifier");
        ProcessBuilder pb = new ProcessBuilder("go", "build", "-o", binary.toString(),
                examples.resolve("token_modifier.go").toString()).inheritIO();
        pb.environment().put("GOPATH", gopath.getParent().toString());
        pb.environment().put("GO111MODULE", "off");
        pb.environment().put("GOCACHE", dir.resolve("gocache").toString());
        pb.environment().put("GOFLAGS", "");
        Process go = pb.start();
        if (!go.waitFor(300, TimeUnit.SECONDS) || go.exitValue() != 0) {
            go.destroyForcibly();
            throw new IllegalStateException("go build of token_modifier.go failed");
        }
        return binary;
    }

    private static Path extract(Path dir, String... patterns) throws Exception {
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
        List<String> cmd = new ArrayList<>(List.of("tar", "-xzf", archive.toString(),
                "-C", dir.toString(), "--wildcards"));
        cmd.addAll(List.of(patterns));
        Process tar = new ProcessBuilder(cmd).inheritIO().start();
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
