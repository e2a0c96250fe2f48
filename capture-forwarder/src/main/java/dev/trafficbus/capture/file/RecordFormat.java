package dev.trafficbus.capture.file;

import java.io.IOException;
import java.util.List;

/** One file format's walk over its records: pcap or pcapng. */
interface RecordFormat {
    /** Reads the next packet into {@code frame}; false at the end of the file. */
    boolean next(CapturedFrame frame) throws IOException, FormatProblem;

    /** The interfaces of the current section that were declared so far. */
    List<CaptureInterface> interfaces();

    /** E.g. "pcap (nanosecond timestamps, big-endian)". */
    String describe();
}
