package dev.trafficbus.capture.file;

import dev.trafficbus.cli.UserInputException;

/**
 * What is wrong with a capture file, in one line that names the file. Thrown by {@link CaptureFile#open} (the file
 * cannot be read at all) and by {@link CaptureFile#next()} ({@link Problem#TRUNCATED} or {@link Problem#DAMAGED}:
 * the packets before it were read and stay valid; {@link #packetsBefore()} says how many).
 */
public final class CaptureFileException extends UserInputException {
    /** The kinds of problems, so a caller can say "truncated" only when the file was cut short. */
    public enum Problem {
        /** No such file, a directory, no permission, or a read error. */
        UNREADABLE,
        /** Zero bytes. */
        EMPTY,
        /** Not a pcap or pcapng file (or one of a kind this reader refuses). */
        NOT_A_CAPTURE,
        /** No interface of the file has a link type that can be read. */
        LINK_TYPE,
        /** The file ends inside a record or block (or inside its compression framing). */
        TRUNCATED,
        /** A record or block contradicts itself (impossible lengths): nothing after it can be trusted. */
        DAMAGED
    }

    private final Problem problem;
    private final long packetsBefore;
    private final String detail;

    CaptureFileException(Problem problem, String message, long packetsBefore) {
        this(problem, message, packetsBefore, null);
    }

    CaptureFileException(Problem problem, String message, long packetsBefore, String detail) {
        super(message);
        this.problem = problem;
        this.packetsBefore = packetsBefore;
        this.detail = detail;
    }

    CaptureFileException(Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.problem = problem;
        this.packetsBefore = 0;
        this.detail = null;
    }

    public Problem problem() {
        return problem;
    }

    /** For a truncated or damaged file: where or how, e.g. "the next record claims 4294967295 captured bytes". */
    public String detail() {
        return detail;
    }

    /** Packets read before the problem. */
    public long packetsBefore() {
        return packetsBefore;
    }
}
