package dev.trafficbus.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a trafficbus command in-process the way its main does, capturing what a user would see on stdout and stderr. */
public record CommandOutput(int exitCode, String out, String err) {

    /** System.out/err are swapped for the run (logs and picocli's errors go there), so runs must not overlap. */
    public static synchronized CommandOutput run(Object command, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            int code = CommandRunner.run(command, args);
            o.flush();
            e.flush();
            CommandOutput result = new CommandOutput(code, out.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8));
            oldOut.print(result.out);
            oldErr.print(result.err);
            return result;
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** True when stderr shows a Java stack trace, which a user must never see. */
    public boolean hasStackTrace() {
        return err.contains("\tat ") || err.contains("Exception in thread")
                || java.util.regex.Pattern.compile("(?m)^[\\w.$]+(Exception|Error)(: .*)?$").matcher(err).find();
    }
}
