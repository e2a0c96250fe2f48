package dev.trafficbus.replay;

import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Option parsing and the user errors that need no broker. */
class ReplayCommandTest {
    @Test
    void speedsParse() {
        assertThat(ReplaySpeed.parse("1").factor()).isEqualTo(1.0);
        assertThat(ReplaySpeed.parse("2.5").factor()).isEqualTo(2.5);
        assertThat(ReplaySpeed.parse("0.5x").factor()).isEqualTo(0.5);
        assertThat(ReplaySpeed.parse("max").isMax()).isTrue();
        assertThat(ReplaySpeed.parse("MAX").toString()).isEqualTo("max");
        assertThat(ReplaySpeed.parse("2").isMax()).isFalse();
        for (String bad : new String[] {"0", "-1", "fast", "", "NaN", "Infinity"}) {
            assertThatThrownBy(() -> ReplaySpeed.parse(bad)).isInstanceOf(UserInputException.class)
                    .hasMessageContaining("speed '" + bad + "'");
        }
    }

    @Test
    void targetsParse() {
        assertThat(TargetAddress.parse("127.0.0.1:8080").getPort()).isEqualTo(8080);
        assertThat(TargetAddress.parse("[::1]:80").getAddress().getHostAddress()).contains(":");
        assertThat(TargetAddress.parse("localhost:1").isUnresolved()).isFalse();
        assertThatThrownBy(() -> TargetAddress.parse("127.0.0.1")).hasMessageContaining("use HOST:PORT");
        assertThatThrownBy(() -> TargetAddress.parse("127.0.0.1:99999")).hasMessageContaining("no valid port");
        assertThatThrownBy(() -> TargetAddress.parse("::1:80")).hasMessageContaining("[ADDRESS]:PORT");
        assertThatThrownBy(() -> TargetAddress.parse("no-such-host.invalid:80")).hasMessageContaining("cannot be resolved");
    }

    @Test
    void badOptionsExitWithCode2AndOneLine() {
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1", "--bootstrap-servers", "x:1",
                "--speed", "fast");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).isEqualTo("trafficbus replay: speed 'fast' is not valid: use a positive number such as 1 or 2.5, or 'max'"
                + System.lineSeparator());

        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "nowhere", "--bootstrap-servers", "x:1");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("trafficbus replay: --target 'nowhere' is not valid");

        o = CommandOutput.run(new ReplayCommand(), "--target", "127.0.0.1:1");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("Missing required options");
    }

    @Test
    void aTargetThatRefusesIsAUserErrorBeforeAnythingIsRead() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:" + port,
                "--bootstrap-servers", "127.0.0.1:1");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).isEqualTo("trafficbus replay: cannot connect to --target 127.0.0.1:" + port
                + " (connection refused); start the test server or fix the address" + System.lineSeparator());
    }

    @Test
    void tlsOptionsNeedATlsTargetAndReadableFiles() {
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--insecure");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).isEqualTo("trafficbus replay: TLS options need a TLS target: use --target https://HOST:PORT "
                + "or add --target-tls" + System.lineSeparator());
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "https://127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--target-ca", "/nonexistent/ca.pem");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).isEqualTo("trafficbus replay: --target-ca /nonexistent/ca.pem cannot be read: give a PEM file"
                + System.lineSeparator());
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "https://127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--tls-cert", "/nonexistent/c.pem");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("--tls-cert and --tls-key go together");
        assertThat(TargetAddress.parse("https://127.0.0.1:8443/").getPort()).isEqualTo(8443);
    }

    @Test
    void helpDescribesEveryOption() {
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--help");
        assertThat(o.exitCode()).isZero();
        for (String option : new String[] {"--topic", "--target", "--bootstrap-servers", "--speed", "--group",
                "--until-end", "--report", "--response-timeout", "--max-connections", "--drain-timeout", "--target-tls",
                "--tls-server-name", "--target-ca", "--insecure", "--tls-cert", "--tls-key", "--tls-provider"}) {
            assertThat(o.out()).contains(option);
        }
    }
}
