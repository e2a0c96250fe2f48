package dev.trafficbus.diff;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/** The diff as a JSON document, for scripts and CI: the same counts and examples as the text summary. */
public final class DiffReportJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DiffReportJson() {
    }

    public static ObjectNode tree(DiffRun run, DiffTally t) {
        ObjectNode root = JSON.createObjectNode();
        root.put("run", run.run());
        root.put("topic", run.topic());
        ArrayNode headers = root.putArray("ignoredHeaders");
        run.rules().ignoredHeaders().forEach(headers::add);
        ArrayNode paths = root.putArray("ignoredJsonPaths");
        run.rules().ignoredJsonPaths().forEach(p -> paths.add(p.toString()));
        ObjectNode totals = root.putObject("totals");
        totals.put("pairs", t.pairs());
        totals.put("equal", t.equal());
        totals.put("different", t.different());
        totals.put("missingProduction", t.missingProduction());
        totals.put("missingReplay", t.missingReplayTotal());
        counts(totals.putObject("missingReplayByError"), t.missingReplay());
        ObjectNode records = root.putObject("records");
        records.put("read", t.recordsRead());
        records.put("undecodable", t.undecodableTotal());
        counts(records.putObject("undecodableByReason"), t.undecodable());
        records.put("otherRun", t.otherRun());
        records.put("duplicates", t.duplicates());
        ArrayNode endpoints = root.putArray("endpoints");
        for (DiffTally.Endpoint e : t.endpoints()) {
            ObjectNode n = endpoints.addObject();
            n.put("endpoint", e.name());
            n.put("pairs", e.pairs());
            n.put("equal", e.equal());
            n.put("different", e.different());
            n.put("missingProduction", e.missingProduction());
            n.put("missingReplay", e.missingReplayTotal());
            counts(n.putObject("missingReplayByError"), e.missingReplay());
            counts(n.putObject("differencesByField"), e.differencesByField());
            ArrayNode examples = n.putArray("examples");
            for (DiffTally.Example x : e.examples()) {
                ObjectNode ex = examples.addObject();
                ex.put("session", x.session());
                ex.put("index", x.index());
                ex.put("url", x.url());
                ex.put("capturedAtMicros", x.capturedAtMicros());
                ex.put("productionStatus", x.productionStatus());
                ex.put("replayedStatus", x.replayedStatus());
                ArrayNode diffs = ex.putArray("differences");
                for (Difference d : x.differences()) {
                    ObjectNode dn = diffs.addObject();
                    dn.put("field", d.field());
                    dn.put("production", d.production());
                    dn.put("replayed", d.replayed());
                }
            }
        }
        return root;
    }

    public static String render(DiffRun run, DiffTally t) {
        try {
            return JSON.writeValueAsString(tree(run, t)) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    private static void counts(ObjectNode node, Map<String, Long> counts) {
        counts.forEach(node::put);
    }
}
