package dev.trafficbus.replay.tcp;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayProblem;
import dev.trafficbus.session.TcpSeq;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Our half of one replayed connection, the fake client's: its sequence space, the server's window, segments cut
 * to the MSS and the path MTU, retransmission (the RFC 6298 timer, fast retransmit, zero-window probes) and the FIN.
 * What the session writes is appended as it is sent, rewritten or not: sequence numbers follow the bytes sent, so
 * a rewrite that changes a message's length moves every later sequence number with it. Belongs to one
 * {@link TcpSession}, on the engine thread.
 */
final class TcpSender {
    static final long SYN_RTO_NANOS = 1_000_000_000L;
    // Everything the server sends is taken at once, so our window never closes.
    private static final int OUR_WINDOW = 65535;
    private static final int OUR_WSCALE = 7;

    private final TcpEngine engine;
    private final TcpSession session;
    private final SynOptions synOptions;
    private boolean open; // the SYN-ACK came
    private long iss;
    private long sndUna;
    private long sndNxt;
    private long sndMax;
    private long sndWnd;
    private long sndWl1; // seq and ack of the segment that last set sndWnd (RFC 9293)
    private long sndWl2;
    private int sndScale;
    private int peerMss = 536;
    private final UnackedBytes out = new UnackedBytes();
    private boolean finQueued;
    private long finSeq;
    private boolean finAcked;
    private int dupAcks;
    private final RetransmitTimer rtx = new RetransmitTimer();
    private long lastProgressNanos;
    /** An ACK owed to the server that no segment has carried yet (sent by the engine's next flush). */
    private boolean ackDue;

    TcpSender(TcpEngine engine, TcpSession session, SynOptions synOptions) {
        this.engine = engine;
        this.session = session;
        this.synOptions = synOptions;
    }

    /** Sends the SYN from a fresh initial sequence number. */
    void start(long now) {
        iss = ThreadLocalRandom.current().nextInt() & 0xffffffffL;
        rtx.restart(SYN_RTO_NANOS, now);
        sendSyn();
    }

    /** True when {@code ackNo} acknowledges our SYN. */
    boolean acksSyn(long ackNo) {
        return ackNo == TcpSeq.add(iss, 1);
    }

    /** The server's SYN-ACK {@code v} came {@code sinceSynNanos} after our first SYN: the connection is open. */
    void established(PacketView v, long sinceSynNanos, long now) {
        open = true;
        sndUna = TcpSeq.add(iss, 1);
        sndNxt = sndUna;
        sndMax = sndUna;
        int ws = v.windowScaleOption();
        if (synOptions.wscale() >= 0 && ws >= 0) {
            sndScale = Math.min(ws, 14);
        }
        sndWnd = v.window(); // not scaled in a SYN
        sndWl1 = v.seq();
        sndWl2 = v.ackNumber();
        int mss = v.mssOption();
        peerMss = mss > 0 ? mss : 536;
        lastProgressNanos = now;
        if (rtx.rto() == SYN_RTO_NANOS) {
            engine.rttSample(sinceSynNanos); // the SYN was not retransmitted: a clean sample
        }
        rtx.restart(engine.rtoNanos(), now);
        // Owed, not sent: a first request due now carries it (a data segment may complete the handshake), which
        // spares the test server a packet per connection; with nothing to send the ACK leaves on the next flush.
        sendAck();
    }

    /** The server sent something: the connection is making progress (for the idle timeout). */
    void progress(long now) {
        lastProgressNanos = now;
    }

    /** An acknowledgement ({@code pure}: no data, no FIN) with the server's window. */
    void onAck(long seq, long ackNo, int window, boolean pure, long now) {
        int advanced = TcpSeq.diff(ackNo, sndUna);
        if (advanced > 0 && TcpSeq.diff(ackNo, sndMax) <= 0) {
            out.drop(advanced);
            if (finQueued && TcpSeq.diff(ackNo, finSeq) > 0) {
                finAcked = true;
            }
            sndUna = ackNo;
            if (TcpSeq.diff(sndNxt, sndUna) < 0) {
                sndNxt = sndUna;
            }
            dupAcks = 0;
            long rtt = rtx.sample(ackNo, now);
            if (rtt >= 0) {
                engine.rttSample(rtt);
            }
            lastProgressNanos = now;
            rtx.restart(engine.rtoNanos(), now);
        } else if (advanced == 0 && pure && inFlight() > 0 && (long) window << sndScale == sndWnd) {
            if (++dupAcks == 3) {
                rtx.forget();
                engine.counters.problem(ReplayProblem.FAST_RETRANSMIT);
                sendSegmentAt(sndUna);
            }
        }
        // A window from a segment older than the last one used (reordered, or relayed twice) is stale.
        if (advanced >= 0 && TcpSeq.diff(ackNo, sndMax) <= 0 && (TcpSeq.diff(seq, sndWl1) > 0
                || (seq == sndWl1 && TcpSeq.diff(ackNo, sndWl2) >= 0))) {
            sndWnd = (long) window << sndScale;
            sndWl1 = seq;
            sndWl2 = ackNo;
        }
        pump(now);
    }

    /** Before the SYN-ACK: sends the SYN again when its timer ran out. */
    void synTimer(long now) {
        if (rtx.due(now)) {
            engine.counters.problem(ReplayProblem.SYN_RETRANSMIT);
            sendSyn();
            rtx.backOff(now);
        }
    }

    /**
     * After the SYN-ACK: retransmits or probes a closed window when the timer ran out. False when nothing moved
     * for the idle timeout: the connection is to be given up.
     */
    boolean retransmitTimer(long now) {
        // A closed window with data waiting: probe until it opens, even when the last probe byte is in flight.
        boolean probe = sndWnd <= 0 && out.length() > 0;
        if ((probe || inFlight() > 0) && rtx.due(now)) {
            if (now - lastProgressNanos >= engine.idleNanos) {
                return false;
            }
            rtx.backOff(now);
            if (probe) {
                // Zero window and nothing in flight: one byte past it makes the server tell its window again.
                engine.counters.problem(ReplayProblem.ZERO_WINDOW_PROBE);
                sendData(sndUna, 0, 1, out.length() == 1);
                sndNxt = TcpSeq.add(sndUna, 1);
                sndMax = TcpSeq.diff(sndNxt, sndMax) > 0 ? sndNxt : sndMax;
            } else {
                engine.counters.problem(ReplayProblem.RETRANSMIT_TIMEOUT);
                sndNxt = sndUna; // go back: everything after the last ACK is sent again
                pump(now);
            }
        }
        return true;
    }

    /** When the retransmission timer runs out (nanoTime). */
    long timerDeadline() {
        return rtx.deadline();
    }

    /** Queues {@code bytes} to be sent after what is queued; {@link #pump} sends them. */
    void append(byte[] bytes) {
        out.append(bytes);
    }

    /** Bytes sent or queued that the server has not acknowledged yet. */
    boolean unacknowledged() {
        return out.length() > 0;
    }

    /** Queues our FIN after everything queued and sends what the window allows. */
    void close(long now) {
        finQueued = true;
        finSeq = sndNxt;
        pump(now);
    }

    /** The server acknowledged our FIN. */
    boolean finAcknowledged() {
        return finAcked;
    }

    /** Sends what the server's window allows, in segments no larger than the MSS and the path MTU. */
    void pump(long now) {
        int segMax = segMax();
        boolean wasIdle = inFlight() == 0;
        boolean sent = false;
        while (true) {
            int offset = TcpSeq.diff(sndNxt, sndUna);
            int unsent = out.length() - offset;
            long room = sndWnd - offset;
            if (unsent <= 0 || room <= 0) {
                break;
            }
            int n = (int) Math.min(Math.min(unsent, segMax), room);
            sendData(sndNxt, offset, n, offset + n == out.length());
            sndNxt = TcpSeq.add(sndNxt, n);
            if (TcpSeq.diff(sndNxt, sndMax) > 0) {
                rtx.time(sndNxt, now);
            }
            sent = true;
        }
        if (finQueued && TcpSeq.diff(sndNxt, sndUna) == out.length() && sndNxt == finSeq && !finAcked) {
            sendFin();
            sndNxt = TcpSeq.add(finSeq, 1);
            sent = true;
        }
        if (TcpSeq.diff(sndNxt, sndMax) > 0) {
            sndMax = sndNxt;
        }
        if (wasIdle && (sent || windowBlocked())) {
            rtx.start(now);
        }
        armRetransmit();
    }

    /** Makes sure the session's timer runs for the retransmission timer while anything is in flight or blocked. */
    void armRetransmit() {
        if (inFlight() > 0 || windowBlocked()) {
            session.arm(rtx.deadline());
        }
    }

    /**
     * Acknowledges what the server sent once the engine thread's current tasks are done: a request, our FIN or a
     * reset sent before then carries the acknowledgement instead, so an answer does not cost a packet of its own.
     */
    void sendAck() {
        if (!ackDue) {
            ackDue = true;
            engine.ackLater(this);
        }
    }

    /** The engine's flush: sends the ACK {@link #sendAck} owed, unless a segment carried it meanwhile. */
    void flushAck() {
        if (ackDue) {
            emitAck();
        }
    }

    private void emitAck() {
        ackDue = false;
        engine.emit(session, sndNxt, session.rcvNxt, PacketView.ACK, OUR_WINDOW, 0, null, 0, 0);
    }

    void sendReset() {
        ackDue = false;
        // Before the SYN-ACK the server may sit in SYN-RECEIVED: only a reset at iss + 1 is in its window.
        engine.emit(session, open ? sndNxt : TcpSeq.add(iss, 1), open ? session.rcvNxt : 0,
                open ? PacketView.RST | PacketView.ACK : PacketView.RST, 0, 0, null, 0, 0);
    }

    private void sendSegmentAt(long seq) {
        int offset = TcpSeq.diff(seq, sndUna);
        int n = Math.min(segMax(), out.length() - offset);
        if (n > 0) {
            sendData(seq, offset, n, offset + n == out.length());
        } else if (finQueued && !finAcked) {
            sendFin();
        }
    }

    private void sendFin() {
        ackDue = false;
        engine.emit(session, finSeq, session.rcvNxt, PacketView.FIN | PacketView.ACK, OUR_WINDOW, 0, null, 0, 0);
    }

    private void sendData(long seq, int offset, int n, boolean last) {
        int flags = PacketView.ACK | (last ? PacketView.PSH : 0);
        ackDue = false;
        engine.emit(session, seq, session.rcvNxt, flags, OUR_WINDOW, 0, out.array(), offset, n);
    }

    private void sendSyn() {
        int opts = SegmentWriter.OPT_MSS | (synOptions.wscale() >= 0 ? SegmentWriter.OPT_WSCALE : 0)
                | (synOptions.sackPermitted() ? SegmentWriter.OPT_SACK_OK : 0);
        int mss = Math.min(synOptions.mss() > 0 ? synOptions.mss() : 1460, pathMss());
        engine.emit(session, iss, 0, PacketView.SYN, OUR_WINDOW, opts, null, 0, 0, mss, OUR_WSCALE);
    }

    /** Largest segment payload the path MTU allows (IP and TCP headers without options). */
    private int pathMss() {
        return engine.mtu - (engine.addressLength() == 4 ? 40 : 60);
    }

    private int segMax() {
        return Math.min(peerMss, pathMss());
    }

    private int inFlight() {
        return open ? TcpSeq.diff(sndMax, sndUna) : 0;
    }

    /** Data waits to be sent, none is in flight, and the server's window is closed. */
    private boolean windowBlocked() {
        return inFlight() == 0 && sndWnd <= 0 && out.length() > 0;
    }
}
