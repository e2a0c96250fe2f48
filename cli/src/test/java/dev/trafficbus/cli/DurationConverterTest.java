package dev.trafficbus.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationConverterTest {
    private final DurationConverter c = new DurationConverter();

    @Test
    void readsEveryUnitAndBareSeconds() {
        assertThat(c.convert("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(c.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.convert("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(c.convert("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(c.convert("7")).isEqualTo(Duration.ofSeconds(7));
        assertThat(c.convert("1.5")).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.convert(" 2.5S ")).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.convert("10 s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.convert("0")).isZero();
        assertThat(c.convert("0ms")).isZero();
    }

    @Test
    void refusesWhatIsNotADurationNamingTheValue() {
        for (String bad : new String[] {"soon", "", "-1s", "10x", "5w", "1e3", "NaN", "s"}) {
            assertThatThrownBy(() -> c.convert(bad)).as(bad).isInstanceOf(CommandLine.TypeConversionException.class)
                    .hasMessage("'" + bad + "' is not a duration; use e.g. 10s, 500ms, 2m or 1h");
        }
        assertThatThrownBy(() -> c.convert("999999999999h")).hasMessageContaining("'999999999999h' is too long");
    }

    @Test
    void retentionTakesADurationOrForever() {
        DurationConverter r = new DurationConverter.Retention();
        assertThat(r.convert("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(r.convert("-1")).isEqualTo(DurationConverter.Retention.FOREVER);
        assertThat(r.convert("forever")).isEqualTo(DurationConverter.Retention.FOREVER);
        assertThatThrownBy(() -> r.convert("0")).hasMessage("'0' is not a retention; use e.g. 7d, 12h, or -1 to keep records forever");
        assertThatThrownBy(() -> r.convert("-2")).hasMessageContaining("'-2' is not a duration");
        assertThat(DurationConverter.Retention.format(-1)).isEqualTo("forever");
        assertThat(DurationConverter.Retention.format(604_800_000L)).isEqualTo("7d");
        assertThat(DurationConverter.Retention.format(36 * 3_600_000L)).isEqualTo("36h");
    }

    @Test
    void positiveRefusesZero() {
        DurationConverter p = new DurationConverter.Positive();
        assertThat(p.convert("1ms")).isEqualTo(Duration.ofMillis(1));
        assertThatThrownBy(() -> p.convert("0s")).hasMessage("'0s' must be a positive duration, e.g. 10s, 500ms or 2m");
        assertThatThrownBy(() -> p.convert("soon")).hasMessageContaining("'soon' is not a duration");
    }

    @Test
    void aBadValueIsAUserErrorNamingTheOptionAndTheValue() {
        CommandOutput o = CommandOutput.run(new Timed(), "--wait", "soon");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err().lines().findFirst()).hasValue(
                "trafficbus timed: Invalid value for option '--wait': 'soon' is not a duration; use e.g. 10s, 500ms, 2m or 1h");
        assertThat(o.hasStackTrace()).isFalse();
    }

    @CommandLine.Command(name = "timed")
    static final class Timed implements Runnable {
        @CommandLine.Option(names = "--wait", converter = DurationConverter.class)
        Duration wait;

        @Override
        public void run() {
        }
    }
}
