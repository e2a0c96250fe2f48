package dev.trafficbus.capture;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.redact.RedactionRules;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The forwarder's redaction options (a picocli mixin shared by {@code forward} and {@code standalone}): what is
 * masked in captured payloads before a byte is published. Add with {@code @Mixin RedactionOptions redaction;}.
 */
public final class RedactionOptions {
    @Option(names = "--redact-header", paramLabel = "NAME",
            description = "Mask the value of this HTTP/1 header (case-insensitive) in requests and responses before"
                    + " publishing, e.g. X-Api-Key; repeatable. Added to the defaults: Authorization,"
                    + " Proxy-Authorization, Cookie, Set-Cookie.")
    List<String> headers = new ArrayList<>();

    @Option(names = "--redact-pattern", paramLabel = "REGEX", converter = PatternConverter.class,
            description = "Mask what this regular expression matches in any payload (its first group when it has one),"
                    + " within one packet, e.g. 'token=([A-Za-z0-9]+)'; repeatable.")
    List<Pattern> patterns = new ArrayList<>();

    @Option(names = "--no-default-redaction",
            description = "Do not mask Authorization, Proxy-Authorization, Cookie and Set-Cookie (only what"
                    + " --redact-header and --redact-pattern name).")
    boolean noDefaults;

    /** The rules the options ask for; a bad header name is a user error naming the option. */
    public RedactionRules rules() {
        List<String> all = new ArrayList<>(noDefaults ? List.of() : RedactionRules.DEFAULT_HEADERS);
        all.addAll(headers);
        try {
            return new RedactionRules(all, patterns);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--redact-header: " + e.getMessage());
        }
    }

    /** Compiles --redact-pattern, with the reason in the error. */
    static final class PatternConverter implements ITypeConverter<Pattern> {
        @Override
        public Pattern convert(String value) {
            try {
                return Pattern.compile(value);
            } catch (PatternSyntaxException e) {
                throw new TypeConversionException("'" + value + "' is not a valid regular expression: "
                        + e.getDescription());
            }
        }
    }
}
