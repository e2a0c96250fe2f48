package dev.trafficbus.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Dockerfile read as text, instruction by instruction (no Docker engine is reachable here, so it is not built):
 * a Maven stage that makes the release archive, a JRE 17 stage with libpcap that runs it as an unprivileged user,
 * trafficbus as the entrypoint, a health check on /health.
 */
class DockerfileTest {
    /** The runtime user's UID; the Kubernetes manifests run the non-capture pods as this user. */
    static final long RUNTIME_UID = 10001;

    /** One instruction: its keyword in upper case and its arguments, continuation lines joined. */
    record Instruction(String keyword, String args) {
    }

    /** One stage: from FROM to the next FROM. */
    record Stage(String image, String name, List<Instruction> instructions) {
        List<String> args(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
        }
    }

    private static final Pattern FROM = Pattern.compile("(?i)(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)");
    private static List<Stage> stages;

    @BeforeAll
    static void parse() throws IOException {
        stages = stages(Files.readAllLines(PrintConfig.checkout().resolve("Dockerfile")));
    }

    @Test
    void aMavenStageBuildsTheReleaseArchive() {
        Stage build = stages.get(0);
        assertThat(build.name()).isEqualTo("build");
        assertThat(build.image()).startsWith("maven:").contains("eclipse-temurin-17");
        String run = String.join("\n", build.args("RUN"));
        assertThat(run).contains("mvn -B -ntp -DskipTests package")
                .contains("tar -xzf dist/target/trafficbus-*.tar.gz -C /out");
        assertThat(PrintConfig.checkout().resolve("dist").resolve("pom.xml"))
                .as("the module that makes the archive the build stage unpacks").isRegularFile();
    }

    @Test
    void theRuntimeIsAJre17WithLibpcapRunByAnUnprivilegedUser() {
        assertThat(stages).hasSizeGreaterThanOrEqualTo(2);
        Stage runtime = stages.get(stages.size() - 1);
        assertThat(runtime.image()).startsWith("eclipse-temurin:17-jre");
        assertThat(runtime.args("COPY")).anyMatch(c -> c.startsWith("--from=build ") && c.endsWith(" /opt/trafficbus"));
        String run = String.join("\n", runtime.args("RUN"));
        assertThat(run).containsPattern("apt-get install -y --no-install-recommends [^\\n]*\\blibpcap0\\.8\\b")
                .contains("rm -rf /var/lib/apt/lists/*")
                .contains("useradd --system --uid " + RUNTIME_UID)
                .contains("ln -s /opt/trafficbus/bin/trafficbus /usr/local/bin/trafficbus");

        List<String> users = runtime.args("USER");
        assertThat(users).as("USER in the runtime stage").isNotEmpty();
        String user = users.get(users.size() - 1);
        assertThat(user).as("numeric, so Kubernetes' runAsNonRoot can check it").matches("\\d+(:\\d+)?");
        assertThat(Long.parseLong(user.split(":")[0])).isEqualTo(RUNTIME_UID).isNotZero();
        assertThat(lastIndex(runtime, "USER")).as("USER comes after the last RUN: what the image runs is not root")
                .isGreaterThan(lastIndex(runtime, "RUN"));
    }

    @Test
    void trafficbusIsTheEntrypointAndHealthIsChecked() {
        Stage runtime = stages.get(stages.size() - 1);
        assertThat(runtime.args("ENTRYPOINT")).containsExactly("[\"trafficbus\"]");
        assertThat(runtime.args("HEALTHCHECK")).singleElement().asString().contains("/health")
                .contains("TRAFFICBUS_METRICS_PORT").contains("CMD ");
        assertThat(String.join("\n", runtime.args("RUN"))).contains("curl"); // what the health check runs
    }

    @Test
    void buildOutputsStayOutOfTheContext() throws IOException {
        List<String> ignored = Files.readAllLines(PrintConfig.checkout().resolve(".dockerignore"));
        assertThat(ignored).contains("**/target/", ".git/");
    }

    private static int lastIndex(Stage s, String keyword) {
        for (int i = s.instructions().size() - 1; i >= 0; i--) {
            if (s.instructions().get(i).keyword().equals(keyword)) {
                return i;
            }
        }
        return -1;
    }

    /** Splits the file into stages; ARGs before the first FROM are its defaults for ${NAME} in FROM lines. */
    static List<Stage> stages(List<String> lines) {
        List<Instruction> all = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String raw : lines) {
            String line = raw.strip();
            if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            if (line.startsWith("#")) {
                continue; // a comment inside a continued instruction
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            String text = current.toString().strip().replaceAll("\\s+", " ");
            current.setLength(0);
            int space = text.indexOf(' ');
            all.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1)));
        }
        Map<String, String> defaults = new HashMap<>();
        List<Stage> stages = new ArrayList<>();
        for (Instruction i : all) {
            if (i.keyword().equals("ARG") && stages.isEmpty()) {
                String[] kv = i.args().split("=", 2);
                defaults.put(kv[0], kv.length > 1 ? kv[1] : "");
            } else if (i.keyword().equals("FROM")) {
                Matcher m = FROM.matcher(i.args());
                assertThat(m.matches()).as("FROM " + i.args()).isTrue();
                stages.add(new Stage(substitute(m.group(1), defaults), m.group(2), new ArrayList<>()));
            } else {
                assertThat(stages).as(i.keyword() + " before the first FROM").isNotEmpty();
                stages.get(stages.size() - 1).instructions().add(i);
            }
        }
        return stages;
    }

    private static String substitute(String s, Map<String, String> defaults) {
        Matcher m = VARIABLE.matcher(s);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            assertThat(defaults).as("ARG " + name + " has a default").containsKey(name);
            m.appendReplacement(b, Matcher.quoteReplacement(defaults.get(name)));
        }
        m.appendTail(b);
        return b.toString();
    }
}
