package dev.trafficbus.replay.intake;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OffsetLedgerTest {
    @Test
    void aRecordThatStartsTwoSessionsIsFinishedOnlyWhenBothAre() {
        OffsetLedger ledger = new OffsetLedger();
        ledger.open(0, 10);
        ledger.open(0, 12); // one session ends inside record 12 and the next begins there
        ledger.open(0, 12);
        ledger.finish(0, 12);
        OffsetAndMetadata c = ledger.commitPoint(0, 20);
        assertThat(c.offset()).isEqualTo(10);
        assertThat(OffsetLedger.finishedBeyond(c)).as("record 12 still starts an unfinished session").isEmpty();
        ledger.finish(0, 12);
        c = ledger.commitPoint(0, 20);
        assertThat(c.offset()).isEqualTo(10);
        assertThat(OffsetLedger.finishedBeyond(c)).containsExactly(12L);
        ledger.finish(0, 10);
        assertThat(ledger.commitPoint(0, 20).offset()).isEqualTo(20);
        assertThat(ledger.openSessions(0)).isZero();
    }
}
