package dev.trafficbus.bus;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CopyHeaderTest {
    @Test
    void aCopyIndexSurvivesEncodeAndDecode() {
        for (int copy : new int[] {0, 1, 2, 255, 256, 70_000, Integer.MAX_VALUE}) {
            RecordHeaders headers = new RecordHeaders();
            headers.add(RecordHeaderNames.COPY, CopyHeader.encode(copy));
            assertThat(CopyHeader.decode(headers)).isEqualTo(copy);
        }
    }

    @Test
    void noHeaderIsCopyZeroAndABadOneIsMalformed() {
        assertThat(CopyHeader.decode(new RecordHeaders())).isZero();
        RecordHeaders shortValue = new RecordHeaders();
        shortValue.add(RecordHeaderNames.COPY, new byte[] {1, 2});
        assertThat(CopyHeader.decode(shortValue)).isEqualTo(CopyHeader.MALFORMED);
        RecordHeaders negative = new RecordHeaders();
        negative.add(RecordHeaderNames.COPY, CopyHeader.encode(-5));
        assertThat(CopyHeader.decode(negative)).isEqualTo(CopyHeader.MALFORMED);
        RecordHeaders nullValue = new RecordHeaders();
        nullValue.add(RecordHeaderNames.COPY, null);
        assertThat(CopyHeader.decode(nullValue)).isEqualTo(CopyHeader.MALFORMED);
    }
}
