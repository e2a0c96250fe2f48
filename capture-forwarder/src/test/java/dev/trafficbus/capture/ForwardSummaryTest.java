package dev.trafficbus.capture;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardSummaryTest {
    private static Map<String, Long> skipped(long notTcp, long notPort) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (SkipReason r : SkipReason.values()) {
            m.put(r.label(), 0L);
        }
        m.put("not-tcp", notTcp);
        m.put("not-port", notPort);
        return m;
    }

    @Test
    void lineNamesSourceTopicSizeTimeAndOnlyTheReasonsThatOccurred() {
        ForwardSummary s = new ForwardSummary("tb.capture.web1", 1234, 1200, 310, 0, skipped(20, 14), 1_234_567, 0.84, false);
        assertThat(s.summaryLine()).isEqualTo("forward web1: 1234 packets read, 1200 published in 310 records to"
                + " tb.capture.web1 (1.2 MB) in 0.8 s; skipped: not-tcp 20, not-port 14");
        assertThat(s.packetsSkipped()).isEqualTo(34);
    }

    @Test
    void smallImportsInKilobytesErrorsAndTruncationAreSaid() {
        ForwardSummary s = new ForwardSummary("tb.capture.a", 10, 7, 7, 3, skipped(0, 0), 2_345, 0.05, true);
        assertThat(s.summaryLine()).isEqualTo("forward a: 10 packets read, 7 published in 7 records to tb.capture.a"
                + " (2.3 KB) in 0.1 s; 3 publish errors; file truncated");
    }

    @Test
    void theMapKeepsItsOrderAndCannotBeChanged() {
        ForwardSummary s = new ForwardSummary("tb.capture.a", 0, 0, 0, 0, skipped(1, 2), 0, 0, false);
        assertThat(s.skippedByReason().keySet()).containsExactly(
                "not-ip", "not-tcp", "ip-fragment", "truncated", "malformed", "not-port", "link-type",
                "timestamp-out-of-range", "oversized");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.skippedByReason().put("x", 1L))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
