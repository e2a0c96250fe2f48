package dev.trafficbus.standalone;

import dev.trafficbus.capture.ForwardSummary;
import dev.trafficbus.replay.ReplaySummary;

import java.util.Map;

/**
 * The counters of one all-in-one run.
 *
 * @param request            what was asked
 * @param forward            the pcap import's counters
 * @param replay             the replay's ledger
 * @param brokerStartSeconds time to format and start the embedded broker
 * @param wallSeconds        the whole run, broker start to broker stop
 * @param replayReport       the replay's report document, as {@code replay --report} writes it
 */
public record StandaloneResult(StandaloneRequest request, ForwardSummary forward, ReplaySummary replay,
                               double brokerStartSeconds, double wallSeconds, Map<String, Object> replayReport) {

    /** Sessions that reached the target: replayed in full or with holes in the capture. */
    public long sessionsReached() {
        return replay.sessionsReplayed() + replay.sessionsIncomplete();
    }

    /** Why the run counts as failed (exit code 1), or null when it did not fail. */
    public String failure() {
        if (forward.publishErrors() > 0) {
            return forward.publishErrors() + " packets could not be published";
        }
        if (replay.sessionsFailed() > 0) {
            return replay.sessionsFailed() + " of " + replay.sessionsSeen() + " sessions failed";
        }
        if (sessionsReached() == 0) {
            return forward.packetsPublished() == 0
                    ? "nothing was replayed: no TCP packets of port(s) " + request.servicePorts() + " in the capture"
                    : "nothing was replayed";
        }
        return null;
    }
}
