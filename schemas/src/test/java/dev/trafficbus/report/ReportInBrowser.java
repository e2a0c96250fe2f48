package dev.trafficbus.report;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Opens an HTML report in headless Chromium (Debian package chromium), takes a screenshot, checks the console. */
public final class ReportInBrowser {
    private ReportInBrowser() {
    }

    /** The Chromium executable, or null when Chromium is not installed. */
    public static String chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (new File(c).canExecute()) {
                return c;
            }
        }
        return null;
    }

    /** Loads {@code page}, saves a screenshot to {@code screenshot}, and fails on any console error. */
    public static void assertOpensWithoutErrors(Path page, Path screenshot) throws Exception {
        String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium is not installed (Debian package chromium); "
                + "the HTML report was not checked in a browser");
        Path profile = Files.createTempDirectory("tb-chromium-");
        Files.createDirectories(screenshot.toAbsolutePath().getParent());
        Files.deleteIfExists(screenshot);
        Path log = Files.createTempFile("tb-chromium-", ".log");
        Process p = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=900,1800",
                "--screenshot=" + screenshot.toAbsolutePath(), "--enable-logging=stderr", "--v=0",
                page.toAbsolutePath().toUri().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            assertThat(ended).as("chromium finished within 60 s").isTrue();
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(screenshot).isNotEmptyFile();
            // Page errors and console messages of level error are logged as CONSOLE lines or "Uncaught".
            for (String line : out.split("\n")) {
                assertThat(line).as("browser log").doesNotContain("Uncaught").doesNotContain(":ERROR:CONSOLE");
                if (line.contains("CONSOLE")) {
                    assertThat(line.toLowerCase()).as("browser console").doesNotContain("error");
                }
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
            Files.deleteIfExists(log);
        }
    }
}
