package dev.trafficbus.session;

import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.packet.PacketView;

import java.util.HashMap;
import java.util.Iterator;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * The captured connections currently being read, by flow key: routes each packet to its session, opens a
 * new session for a new connection on a reused 4-tuple, and ends sessions that went quiet. A session that
 * ended stays as a tombstone for a while so trailing ACKs and FIN retransmissions do not open a new one;
 * client data after an idle end opens a new one.
 * Single-threaded.
 */
public final class SessionTable {
    /** Creates the receiver of a new session's events. */
    public interface Opener {
        SessionEvents open(FlowKey key, long firstTsMicros, int partition);

        /**
         * Opens session {@code key} whose first record is at {@code offset} of {@code partition};
         * {@code synStart}: that record is the client's SYN (the session's start was captured).
         */
        default SessionEvents open(SessionKey key, long firstTsMicros, int partition, long offset, boolean synStart) {
            return open(key.flow(), firstTsMicros, partition);
        }
    }

    /** What happened to one packet. */
    public enum Outcome {
        /** Given to a session. */
        ACCEPTED,
        /** A packet without payload that belongs to no session (e.g. the tail of a connection captured late). */
        NO_SESSION,
        /** Payload after the connection was closed or reset: not replayed. */
        DATA_AFTER_CLOSE
    }

    /**
     * A session of the table; once ended, a tombstone: it forgets the session and its receiver (which hold the
     * session's messages and, while replayed, its whole replay) and keeps only whether the capture closed it.
     */
    private static final class Entry {
        CapturedSession session;
        SessionEvents events;
        final int partition;
        long lastSeen;
        boolean flushed;
        boolean counted;
        /** Tombstone: the capture saw FIN or RST (otherwise the session ended idle and may go on). */
        boolean closing;

        Entry(SessionEvents events, long maxBuffered, int partition, long now) {
            this.events = events;
            this.session = new CapturedSession(events, maxBuffered);
            this.partition = partition;
            this.lastSeen = now;
        }

        boolean ended() {
            return session == null || session.ended();
        }

        boolean closing() {
            return session == null ? closing : session.closing();
        }
    }

    private final Opener opener;
    private final long maxBufferedPerSession;
    private final HashMap<SessionKey, Entry> sessions = new HashMap<>();
    private final HashMap<Integer, int[]> liveByPartition = new HashMap<>();
    private int live;
    private SessionEvents lastAccepted;

    /** A table that opens sessions through {@code opener}, each buffering at most {@code maxBufferedPerSession}. */
    public SessionTable(Opener opener, long maxBufferedPerSession) {
        this.opener = opener;
        this.maxBufferedPerSession = maxBufferedPerSession;
    }

    /** Sessions not ended yet. */
    public int liveSessions() {
        return live;
    }

    /**
     * Routes one TCP packet ({@code v} wrapped on it) of flow {@code key}; {@code nowNanos} is the clock the
     * idle rules of {@link #sweep} use.
     */
    public Outcome accept(FlowKey key, int partition, boolean clientToServer, PacketView v, long tsMicros,
                          long nowNanos) {
        return accept(new SessionKey(key, 0), partition, -1, clientToServer, v, tsMicros, nowNanos);
    }

    /** The receiver of the session the last {@code accept} gave its packet to (null when none took it). */
    public SessionEvents lastAccepted() {
        return lastAccepted;
    }

    /** Live sessions of one partition. */
    public int liveSessions(int partition) {
        int[] n = liveByPartition.get(partition);
        return n == null ? 0 : n[0];
    }

    /**
     * As {@link #accept(FlowKey, int, boolean, PacketView, long, long)} for session {@code key} (flow and
     * copy), with the record's {@code offset} in its partition (passed to the opener of a new session).
     */
    public Outcome accept(SessionKey key, int partition, long offset, boolean clientToServer, PacketView v,
                          long tsMicros, long nowNanos) {
        lastAccepted = null;
        Entry e = sessions.get(key);
        int flags = v.flags();
        boolean clientSyn = clientToServer && (flags & PacketView.SYN) != 0 && (flags & PacketView.ACK) == 0;
        if (e != null && clientSyn && !e.ended() && e.session.isNewConnection(v.seq())) {
            // The capture missed the close of the previous connection on this 4-tuple.
            e.session.finish(SessionEnd.How.END_OF_INPUT);
            ended(e);
        }
        if (e != null && e.ended()) {
            // Ended without FIN or RST (idle): the connection is still open, so new client data continues it
            // as a mid-connection session rather than being dropped.
            boolean reopen = clientSyn || (clientToServer && v.payloadLength() > 0 && !e.closing());
            if (!reopen) {
                e.lastSeen = nowNanos;
                return v.payloadLength() > 0 ? Outcome.DATA_AFTER_CLOSE : Outcome.ACCEPTED;
            }
            e = null;
        }
        if (e == null) {
            if (!clientSyn && v.payloadLength() == 0) {
                return Outcome.NO_SESSION;
            }
            e = new Entry(opener.open(key, tsMicros, partition, offset, clientSyn), maxBufferedPerSession,
                    partition, nowNanos);
            sessions.put(key, e);
            live++;
            e.counted = true;
            liveByPartition.computeIfAbsent(partition, p -> new int[1])[0]++;
        }
        e.lastSeen = nowNanos;
        e.flushed = false;
        lastAccepted = e.events;
        if (clientToServer) {
            e.session.clientPacket(v, tsMicros);
        } else {
            e.session.serverPacket(v, tsMicros);
        }
        if (e.session.ended()) {
            ended(e);
        }
        return Outcome.ACCEPTED;
    }

    /**
     * Applies the idle rules at {@code nowNanos}: sessions quiet for {@code flushAfterNanos} have their
     * message in progress flushed (≤ 0: never), sessions quiet for {@code endAfterNanos} are ended (≤ 0:
     * never), and tombstones quiet for {@code forgetAfterNanos} are dropped.
     */
    public void sweep(long nowNanos, long flushAfterNanos, long endAfterNanos, long forgetAfterNanos) {
        Iterator<Entry> it = sessions.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            long quiet = nowNanos - e.lastSeen;
            if (e.ended()) {
                if (quiet >= forgetAfterNanos) {
                    it.remove();
                }
                continue;
            }
            if (endAfterNanos > 0 && quiet >= endAfterNanos) {
                e.session.finish(SessionEnd.How.IDLE);
                ended(e);
            } else if (flushAfterNanos > 0 && quiet >= flushAfterNanos && !e.flushed) {
                e.flushed = true;
                e.session.idleFlush();
                if (e.session.ended()) {
                    ended(e);
                }
            }
        }
    }

    /** Ends every live session of the partitions {@code partitions} accepts (end of input) and forgets them. */
    public void finishPartitions(IntPredicate partitions) {
        Iterator<Entry> it = sessions.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (partitions.test(e.partition)) {
                if (!e.ended()) {
                    e.session.finish(SessionEnd.How.END_OF_INPUT);
                    ended(e);
                }
                it.remove();
            }
        }
    }

    /** Hands the receivers of every live session of the partitions {@code partitions} accepts to {@code action}. */
    public void forEachLive(IntPredicate partitions, Consumer<SessionEvents> action) {
        for (Entry e : sessions.values()) {
            if (!e.ended() && partitions.test(e.partition)) {
                action.accept(e.events);
            }
        }
    }

    /** Ends every live session (end of input) and forgets every session, tombstones included. */
    public void clear() {
        finishAll();
        sessions.clear();
    }

    private void ended(Entry e) {
        if (e.counted) {
            e.counted = false;
            live--;
            liveByPartition.get(e.partition)[0]--;
        }
        if (e.session != null) {
            e.closing = e.session.closing();
            e.session = null;
            e.events = null;
        }
    }

    /** Ends every live session (end of input). */
    public void finishAll() {
        finishPartitions(p -> true);
    }

    /** All entries kept, live or tombstones. */
    public int size() {
        return sessions.size();
    }
}
