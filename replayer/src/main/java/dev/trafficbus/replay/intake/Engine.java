package dev.trafficbus.replay.intake;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.session.SessionKey;

import java.util.Map;
import java.util.function.IntPredicate;

/**
 * A session engine as the shared intake sees it: the transport that carries replayed sessions to the target
 * (ordinary sockets, or raw packets answered through intercept). The intake reads the topic, decides which
 * sessions are replayed and feeds them; the engine paces, sends and judges answers.
 */
public interface Engine extends SessionDrain.Sessions, IntakeLoad, AutoCloseable {
    /**
     * Consumer thread: opens the replay of session {@code key}, whose first record is {@code offset} of
     * {@code partition} (-1: not tracked for commits), captured by {@code source}; {@code first} is the packet
     * that opened it (valid during the call only), e.g. a client SYN whose options the replay repeats.
     */
    ReplayedSession open(SessionKey key, long firstTsMicros, int partition, long offset, String source,
                         PacketView first);

    /** Consumer thread: hands the events posted since the last call to the engine's threads. */
    void flush();

    /** Sessions of the partitions {@code partitions} accepts that have not reached an outcome. */
    int liveSessions(IntPredicate partitions);

    /** Ends the sessions of the partitions {@code partitions} accepts, counting them as interrupted. */
    void interrupt(IntPredicate partitions);

    /** After the drain: throws a {@link dev.trafficbus.cli.UserInputException} when the run could not work at all. */
    default void drained() {
    }

    /** Figures of this engine alone for the run's ledger (e.g. packets), added under {@code engine}. */
    default Map<String, Object> figures() {
        return Map.of();
    }

    @Override
    void close();
}
