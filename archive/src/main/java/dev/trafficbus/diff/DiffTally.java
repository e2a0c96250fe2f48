package dev.trafficbus.diff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The counts of one diff, in total and per endpoint. Every record read is counted once: as a pair (equal, different,
 * missing production or missing replay by reason), or as undecodable, of another run, or a duplicate.
 */
public final class DiffTally {
    /** A differing pair shown as an example. */
    public record Example(String session, int index, String url, long capturedAtMicros, int productionStatus,
                         int replayedStatus, List<Difference> differences) {
    }

    /** The counts of one endpoint ("GET /api/items"). */
    public static final class Endpoint {
        private final String name;
        long pairs;
        long equal;
        long different;
        long missingProduction;
        final Map<String, Long> missingReplay = new TreeMap<>();
        final Map<String, Long> differencesByField = new TreeMap<>();
        final List<Example> examples = new ArrayList<>();

        Endpoint(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public long pairs() {
            return pairs;
        }

        public long equal() {
            return equal;
        }

        public long different() {
            return different;
        }

        public long missingProduction() {
            return missingProduction;
        }

        /** Pairs without a replayed response, by the record's error. */
        public Map<String, Long> missingReplay() {
            return Collections.unmodifiableMap(missingReplay);
        }

        public long missingReplayTotal() {
            return missingReplay.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Differing pairs by field group ("body $.items[*].price", "header etag", "status"). */
        public Map<String, Long> differencesByField() {
            return Collections.unmodifiableMap(differencesByField);
        }

        public List<Example> examples() {
            return Collections.unmodifiableList(examples);
        }
    }

    private final int examplesPerEndpoint;
    private final Map<String, Endpoint> endpoints = new TreeMap<>();
    private final Map<String, Long> undecodable = new TreeMap<>();
    private long recordsRead;
    private long otherRun;
    private long duplicates;

    /** @param examplesPerEndpoint differing pairs kept per endpoint to show */
    public DiffTally(int examplesPerEndpoint) {
        this.examplesPerEndpoint = examplesPerEndpoint;
    }

    void countRead() {
        recordsRead++;
    }

    void countUndecodable(String reason) {
        undecodable.merge(reason, 1L, Long::sum);
    }

    void countOtherRun() {
        otherRun++;
    }

    void countDuplicate() {
        duplicates++;
    }

    void add(ResponseRecord r, PairComparison.Result result) {
        Endpoint e = endpoints.computeIfAbsent(r.endpoint(), Endpoint::new);
        e.pairs++;
        switch (result.outcome()) {
            case EQUAL -> e.equal++;
            case MISSING_PRODUCTION -> e.missingProduction++;
            case MISSING_REPLAY -> e.missingReplay.merge(result.missingReason(), 1L, Long::sum);
            case DIFFERENT -> {
                e.different++;
                result.fields().forEach(g -> e.differencesByField.merge(g, 1L, Long::sum));
                if (e.examples.size() < examplesPerEndpoint) {
                    e.examples.add(new Example(r.session(), r.index(), r.url(), r.capturedAtMicros(),
                            r.production().status(), r.replayed().status(), result.differences()));
                }
            }
        }
    }

    /** Endpoints in name order. */
    public List<Endpoint> endpoints() {
        return List.copyOf(endpoints.values());
    }

    public long recordsRead() {
        return recordsRead;
    }

    /** Records that are not responses-topic JSON, by reason. */
    public Map<String, Long> undecodable() {
        return Collections.unmodifiableMap(undecodable);
    }

    public long undecodableTotal() {
        return undecodable.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Records of another run id on the same topic. */
    public long otherRun() {
        return otherRun;
    }

    /** Records of a request already counted (same session and index), e.g. written again by a restarted replayer. */
    public long duplicates() {
        return duplicates;
    }

    public long pairs() {
        return sum(e -> e.pairs);
    }

    public long equal() {
        return sum(e -> e.equal);
    }

    public long different() {
        return sum(e -> e.different);
    }

    public long missingProduction() {
        return sum(e -> e.missingProduction);
    }

    /** Pairs without a replayed response, by reason, over all endpoints. */
    public Map<String, Long> missingReplay() {
        Map<String, Long> m = new TreeMap<>();
        endpoints.values().forEach(e -> e.missingReplay.forEach((k, v) -> m.merge(k, v, Long::sum)));
        return m;
    }

    public long missingReplayTotal() {
        return sum(Endpoint::missingReplayTotal);
    }

    private long sum(java.util.function.ToLongFunction<Endpoint> f) {
        return endpoints.values().stream().mapToLong(f).sum();
    }
}
