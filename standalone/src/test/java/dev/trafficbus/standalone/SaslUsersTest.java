package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SaslUsersTest {
    @TempDir
    Path dir;

    @Test
    void readsUsersInFileOrderSkippingCommentsAndBlankLines() throws IOException {
        SaslUsers users = SaslUsers.read(write("# who may log in\nadmin:s3cret:with:colons\n\nteam-a:a\n"));
        assertThat(users.passwords()).containsExactly(java.util.Map.entry("admin", "s3cret:with:colons"),
                java.util.Map.entry("team-a", "a"));
        assertThat(users.clientProperties("team-a").getProperty("sasl.jaas.config"))
                .isEqualTo("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"team-a\" password=\"a\";");
    }

    @Test
    void badFilesNameTheLineAndTheFix() throws IOException {
        Path noAdmin = write("team-a:a\n");
        refuses(noAdmin, "--sasl-users " + noAdmin + ": no line for 'admin', the super user who grants the others' "
                + "access (add admin:PASSWORD)");
        Path noColon = write("admin:x\nteam-a\n");
        refuses(noColon, "--sasl-users " + noColon + " line 2: expected user:password");
        Path twice = write("admin:x\nadmin:y\n");
        refuses(twice, "--sasl-users " + twice + " line 2: user admin is given twice");
        Path quote = write("admin:a\"b\n");
        refuses(quote, "--sasl-users " + quote + " line 1: the password of admin holds '\"' or '\\'; choose another");
        Path missing = dir.resolve("nope.txt");
        refuses(missing, "--sasl-users " + missing + ": no such file");
    }

    private void refuses(Path file, String message) {
        assertThatThrownBy(() -> SaslUsers.read(file)).isInstanceOf(UserInputException.class).hasMessage(message);
    }

    private Path write(String text) throws IOException {
        Path f = Files.createTempFile(dir, "users", ".txt");
        Files.writeString(f, text);
        return f;
    }
}
