package dev.trafficbus.capture;

import dev.trafficbus.cli.UserInputException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes given on the command line: a number with an optional unit B, KB, MB, GB (powers of 1024). */
final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(?:([KMG])(?:I?B)?|B)?", Pattern.CASE_INSENSITIVE);

    private ByteSize() {
    }

    /** Bytes in {@code text}, e.g. "256MB" or "65536"; a user error naming {@code option} otherwise. */
    static long parse(String option, String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new UserInputException(option + " '" + text + "' is not a size; use e.g. 64MB, 512KB or 1GB");
        }
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
        int shift = unit.startsWith("K") ? 10 : unit.startsWith("M") ? 20 : unit.startsWith("G") ? 30 : 0;
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new UserInputException(option + " '" + text + "' is too large", e);
        }
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new UserInputException(option + " '" + text + "' is too large");
        }
        return n << shift;
    }

    /** A human size, e.g. "1.5 MB". */
    static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024));
    }
}
