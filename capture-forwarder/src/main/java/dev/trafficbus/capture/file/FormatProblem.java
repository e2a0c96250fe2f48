package dev.trafficbus.capture.file;

/** A record parser's finding, which {@link CaptureFile} turns into a message naming the file and the packet count. */
final class FormatProblem extends Exception {
    final CaptureFileException.Problem problem;

    FormatProblem(CaptureFileException.Problem problem, String detail) {
        super(detail, null, false, false);
        this.problem = problem;
    }

    static FormatProblem truncated(String where) {
        return new FormatProblem(CaptureFileException.Problem.TRUNCATED, where);
    }

    static FormatProblem damaged(String what) {
        return new FormatProblem(CaptureFileException.Problem.DAMAGED, what);
    }
}
