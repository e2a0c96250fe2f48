package dev.trafficbus.replay;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The one problem vocabulary: distinct names a metric label can hold, each explained in the README. */
class ReplayProblemTest {
    @Test
    void labelsAreDistinctLowerCaseWords() {
        List<String> labels = ReplayProblem.labels();
        assertThat(new HashSet<>(labels)).hasSameSizeAs(labels);
        assertThat(labels).allMatch(l -> l.matches("[a-z]+(-[a-z]+)*"));
    }

    @Test
    void theReadmesProblemsLineListsEveryNameAndNoOther() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int at = readme.indexOf("- **problems**:");
        assertThat(at).as("README.md has the problems line of \"What the summary means\"").isPositive();
        int end = readme.indexOf("\n- ", at + 1);
        Matcher m = Pattern.compile("`([a-z][a-z-]*)`").matcher(readme.substring(at, end));
        List<String> listed = new java.util.ArrayList<>();
        while (m.find()) {
            listed.add(m.group(1));
        }
        assertThat(listed).containsExactlyInAnyOrderElementsOf(ReplayProblem.labels());
    }
}
