package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TcpEngineOptionsTest {
    @Command(name = "t")
    static final class Cmd {
        @Mixin
        TcpEngineOptions tcp;
    }

    private static TcpEngineOptions parse(String... args) {
        Cmd c = new Cmd();
        new CommandLine(c).parseArgs(args);
        return c.tcp;
    }

    @Test
    void socketIsTheDefaultAndNeedsNothingElse() {
        TcpEngineOptions o = parse();
        assertThat(o.tcpEngine()).isFalse();
        o.validate();
    }

    @Test
    void tcpNeedsAClientRangeAndAnIntercept() {
        assertThatThrownBy(() -> parse("--engine", "tcp").validate()).isInstanceOf(UserInputException.class)
                .hasMessageContaining("--client-range");
        assertThatThrownBy(() -> parse("--engine", "tcp", "--client-range", "10.99.0.0/16").validate())
                .isInstanceOf(UserInputException.class).hasMessageContaining("--intercept");
        assertThatThrownBy(() -> parse("--engine", "udp").validate()).isInstanceOf(UserInputException.class)
                .hasMessageContaining("--engine 'udp'");
        assertThatThrownBy(() -> parse("--engine", "tcp", "--client-range", "10.99.0.0/16", "--intercept",
                "127.0.0.1:36524", "--instance", "15").validate()).hasMessageContaining("--instance");
        assertThatThrownBy(() -> parse("--engine", "tcp", "--client-range", "10.99.0.0/16", "--intercept",
                "127.0.0.1:36524", "--token-file", "/nonexistent/token").validate()).hasMessageContaining("--token-file");
    }

    @Test
    void acceptsSeveralInterceptsAndReadsTheToken() throws Exception {
        Path token = Files.createTempFile("token", "");
        Files.writeString(token, "abc\n");
        TcpEngineOptions o = parse("--engine", "tcp", "--client-range", "10.99.0.0/16", "--intercept",
                "127.0.0.1:36524,127.0.0.2", "--token-file", token.toString(), "--instance", "4",
                "--handshake-timeout", "2s", "--mtu", "9000");
        o.validate();
        assertThat(o.tcpEngine()).isTrue();
        assertThat(o.interceptAddresses()).hasSize(2);
        assertThat(o.interceptAddresses().get(1).getPort()).isEqualTo(36524);
        assertThat(o.token()).isEqualTo("abc");
        assertThat(o.instanceOrDefault()).isEqualTo(4);
        assertThat(o.handshakeTimeout().toMillis()).isEqualTo(2000);
        assertThat(o.mtu()).isEqualTo(9000);
        Files.delete(token);
    }

    @Test
    void aShortNumericInterceptAddressIsRefusedNotReadAsAnotherHost() {
        // "10.1" would otherwise mean 10.0.0.1
        assertThatThrownBy(() -> parse("--engine", "tcp", "--client-range", "10.99.0.0/16", "--intercept",
                "10.1:36524").validate()).isInstanceOf(UserInputException.class).hasMessageContaining("--intercept '10.1:36524'");
        assertThatThrownBy(() -> parse("--engine", "tcp", "--client-range", "10.99/16", "--intercept",
                "127.0.0.1").validate()).isInstanceOf(UserInputException.class).hasMessageContaining("--client-range");
    }
}
