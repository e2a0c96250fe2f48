package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.CommandOutput;
import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.metrics.MetricsEndpoint;
import dev.trafficbus.replay.ReplayCommand;
import dev.trafficbus.replay.ReplayProblem;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.time.Instant;
import java.util.Collections;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Window, rate, commit ledger and production guard, without a broker. */
class ArchiveOptionsTest {
    @Test
    void windowsParseIsoInstantsAndRefuseTheRest() {
        ReplayWindow w = ReplayWindow.parse("2026-11-21T14:00:00Z", "2026-11-21T15:05:00+01:00");
        assertThat(w.from()).isEqualTo(Instant.parse("2026-11-21T14:00:00Z"));
        assertThat(w.to()).isEqualTo(Instant.parse("2026-11-21T14:05:00Z"));
        assertThat(w.contains(w.fromMicros())).isTrue();
        assertThat(w.contains(w.toMicros())).isFalse();
        assertThat(w.contains(w.toMicros() - 1)).isTrue();
        assertThat(ReplayWindow.parse(null, null).bounded()).isFalse();
        assertThatThrownBy(() -> ReplayWindow.parse("yesterday", null)).isInstanceOf(UserInputException.class)
                .hasMessageStartingWith("--from 'yesterday' is not a time: use an ISO-8601 instant such as 2026-11-21T14:00:00Z");
        assertThatThrownBy(() -> ReplayWindow.parse("2026-11-21T14:00:00Z", "2026-11-21T13:00:00Z"))
                .hasMessageContaining("--to 2026-11-21T13:00:00Z must be after --from");
    }

    @Test
    void ratesParseAndSpaceTheSlotsEvenly() {
        assertThat(ReplayRate.parse("500/s").capsRequests()).isFalse();
        assertThat(ReplayRate.parse("500 sessions/s").toString()).isEqualTo("500 sessions/s");
        assertThat(ReplayRate.parse("200 requests/s").capsRequests()).isTrue();
        assertThatThrownBy(() -> ReplayRate.parse("fast")).hasMessageStartingWith("--rate 'fast' is not valid");
        assertThatThrownBy(() -> ReplayRate.parse("0/s")).isInstanceOf(UserInputException.class);
        ReplayRate r = new ReplayRate(10, false);
        long t0 = 1_000_000_000L;
        assertThat(r.reserve(t0)).isEqualTo(t0);
        assertThat(r.reserve(t0)).isEqualTo(t0 + 100_000_000L);
        assertThat(r.reserve(t0 + 10)).isEqualTo(t0 + 200_000_000L);
        // After an idle period the schedule starts again at now: no burst is earned.
        assertThat(r.reserve(t0 + 5_000_000_000L)).isEqualTo(t0 + 5_000_000_000L);
    }

    @Test
    void theCommitPointWaitsForTheOldestUnfinishedSessionAndRemembersTheFinishedOnesBeyond() {
        OffsetLedger l = new OffsetLedger();
        l.open(0, 10);
        l.open(0, 12);
        l.open(0, 20);
        assertThat(l.commitPoint(0, 30).offset()).isEqualTo(10);
        l.finish(0, 12);
        l.finish(0, 20);
        OffsetAndMetadata c = l.commitPoint(0, 30);
        assertThat(c.offset()).isEqualTo(10);
        assertThat(OffsetLedger.finishedBeyond(c)).containsExactlyInAnyOrder(12L, 20L);
        l.finish(0, 10);
        c = l.commitPoint(0, 30);
        assertThat(c.offset()).isEqualTo(30);
        assertThat(OffsetLedger.finishedBeyond(c)).isEmpty();
        assertThat(l.commitPoint(1, 7).offset()).isEqualTo(7);
        assertThat(OffsetLedger.finishedBeyond(new OffsetAndMetadata(5, "not ours!"))).isEmpty();
    }

    @Test
    void theTargetMayNotBeACapturedServer() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        InetAddress other = InetAddress.getByName("192.0.2.7");
        ProductionGuard guard = new ProductionGuard(new InetSocketAddress(loopback, 8080));
        guard.check(FlowKey.of(other, 8080, other, 5000)); // another host
        guard.check(FlowKey.of(loopback, 9090, other, 5000)); // another port
        assertThatThrownBy(() -> guard.check(FlowKey.of(loopback, 8080, other, 5000)))
                .isInstanceOf(UserInputException.class)
                .hasMessageContaining("--target 127.0.0.1:8080 is the captured server 127.0.0.1:8080 itself")
                .hasMessageContaining("--allow-production-target");
        // A server captured on one of this host's own addresses is this host's port too.
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (!a.isLoopbackAddress() && a.getAddress().length == 4) {
                    assertThatThrownBy(() -> guard.check(FlowKey.of(a, 8080, other, 5000)))
                            .isInstanceOf(UserInputException.class);
                }
            }
        }
    }

    @Test
    void countersAreExportedUnderTheReplayComponent() {
        try (MetricsEndpoint m = new MetricsEndpoint("replay")) {
            ReplayCounters c = new ReplayCounters();
            c.problem(ReplayProblem.CAPTURE_GAP);
            c.attach(null, m);
            c.sessionsReplayed.add(3);
            c.problem(ReplayProblem.RESPONSE_TIMEOUT, 2);
            c.leftOut(LeftOutReason.STARTS_BEFORE_WINDOW);
            String text = m.scrape();
            assertThat(text).contains("trafficbus_replay_sessions_replayed_total 3.0")
                    .contains("trafficbus_replay_problems_total{reason=\"response-timeout\"} 2.0")
                    .contains("trafficbus_replay_problems_total{reason=\"capture-gap\"} 1.0")
                    .contains("trafficbus_replay_sessions_left_out_total{reason=\"starts-before-window\"} 1.0");
        }
    }

    @Test
    void optionMistakesAreOneLineErrors() {
        CommandOutput o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--from", "14:00");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("trafficbus replay: --from '14:00' is not a time");
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--loop", "3");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).isEqualTo("trafficbus replay: --loop 3 needs an end to repeat: add --to TIME or --until-end"
                + System.lineSeparator());
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--rate", "lots");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("trafficbus replay: --rate 'lots' is not valid");
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--responses-topic", "x");
        assertThat(o.err()).startsWith("trafficbus replay: --responses-topic needs --capture-responses");
        assertThat(Set.of(o.exitCode())).containsExactly(2);
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--engine", "tcp", "--client-range", "10.99.0.0/16",
                "--intercept", "127.0.0.1:36524", "--from", "2026-11-21T14:00:00Z", "--rate", "5/s");
        // The tcp engine takes the archive options like the socket engine: the next check is the target's.
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("trafficbus replay: cannot connect to --target 127.0.0.1:1");
        o = CommandOutput.run(new ReplayCommand(), "--topic", "t", "--target", "127.0.0.1:1",
                "--bootstrap-servers", "x:1", "--engine", "raw");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("trafficbus replay: --engine 'raw' is not valid");
    }
}
