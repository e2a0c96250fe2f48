package dev.trafficbus.session;

import dev.trafficbus.packet.PacketView;
import dev.trafficbus.websocket.WebSocketFrames;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * One captured TCP connection turned into the messages its client sent, built incrementally as packets
 * arrive. A message is what the client sent before waiting for an answer: a new one starts where a client
 * data segment acknowledges more server data than the previous message did (the server spoke in between),
 * or after server data was seen. The expected answer to each message is the server payload that followed
 * it, or, when the capture holds no server packets, how far the client's ACK advanced. Once the server's first
 * answer switched the connection to WebSocket (a 101 with {@code Upgrade: websocket}), every client frame also
 * ends a message, so each frame is replayed at its own capture time.
 * Pure logic, single-threaded: results go to {@link SessionEvents}.
 */
public final class CapturedSession implements StreamReassembler.Sink {
    /** Out-of-order client bytes kept per session before the hole in front of them is declared a gap. */
    public static final long DEFAULT_MAX_BUFFERED = 4L << 20;

    private final SessionEvents out;
    private final StreamReassembler stream;

    private boolean synSeen;
    private long synSeq;
    private boolean dataSeen;
    private boolean clientFin;
    private long clientFinOffset;
    private boolean clientRst;
    private boolean serverFin;
    private boolean serverRst;
    private boolean ended;

    // Stream offsets where a message starts that the stream has not reached yet (segments arrived early).
    private final ArrayDeque<Long> boundaries = new ArrayDeque<>(2);
    private boolean boundaryAckKnown;
    private long boundaryAck;
    private long lastStartOffset = -1;

    // The open message's bytes: null between messages, so a session waiting for its next message holds no buffer;
    // sized to the first segment, so a message of one segment is handed over as it is, without a copy.
    private byte[] buf;
    private int bufLen;
    private boolean messageOpen;
    private long messageTs;
    private long messageLastTs;
    /** Capture time of the latest server byte answering the latest message. */
    private long answerLastTs;
    private int nextIndex;
    /** The server's first payload byte was seen. */
    private boolean serverSpoke;
    /** The client's frames, once the connection switched to WebSocket; else null. */
    private WebSocketFrames clientFrames;

    // Answer accounting for the latest message (index nextIndex - 1; -1 before the first).
    private boolean serverSeen;
    private long serverBytes;
    // Set when client bytes after the latest message were lost: server bytes from then on answer those.
    private boolean answerFrozen;
    private boolean ackKnown;
    private long ackBase;
    private long maxAck;
    private boolean serverSeqKnown;
    private long serverNext;

    /** A session reporting to {@code out}, buffering at most {@code maxBufferedBytes} of early client data. */
    public CapturedSession(SessionEvents out, long maxBufferedBytes) {
        this.out = out;
        this.stream = new StreamReassembler(maxBufferedBytes);
    }

    /** A session reporting to {@code out} with the default early-data bound. */
    public CapturedSession(SessionEvents out) {
        this(out, DEFAULT_MAX_BUFFERED);
    }

    /** True once {@link SessionEvents#end} was sent; the session takes nothing more. */
    public boolean ended() {
        return ended;
    }

    /** Either side has sent FIN or RST. */
    public boolean closing() {
        return clientFin || clientRst || serverFin || serverRst;
    }

    /** True when a client SYN with this sequence number opens a different connection on the same 4-tuple. */
    public boolean isNewConnection(long clientSynSeq) {
        // The sequence decides first: a retransmitted SYN (with TCP Fast Open data, even after data) is no new connection.
        return !synSeen || synSeq != clientSynSeq;
    }

    /** A packet the client sent (the view must be wrapped on a TCP packet). */
    public void clientPacket(PacketView v, long tsMicros) {
        if (ended) {
            return;
        }
        int flags = v.flags();
        long seq = v.seq();
        boolean hasAck = (flags & PacketView.ACK) != 0;
        long ack = v.ackNumber();
        if ((flags & PacketView.SYN) != 0) {
            if (!synSeen && !dataSeen) {
                synSeen = true;
                synSeq = seq;
                stream.start(TcpSeq.add(seq, 1));
            }
            seq = TcpSeq.add(seq, 1); // the SYN takes one sequence number; data with it (TFO) follows
        }
        if (hasAck) {
            noteClientAck(ack);
        }
        if (v.payloadLength() > 0) {
            clientData(seq, v.array(), v.payloadOffset(), v.payloadLength(), tsMicros, hasAck, ack);
        }
        if ((flags & PacketView.RST) != 0) {
            clientRst = true;
            end(SessionEnd.How.RESET);
        } else if ((flags & PacketView.FIN) != 0) {
            if (!clientFin && stream.started()) {
                clientFinOffset = stream.offsetOf(TcpSeq.add(seq, v.payloadLength()));
            }
            clientFin = true;
            if (!stream.hasHole()) {
                closeMessage();
            }
            if (serverFin) {
                end(SessionEnd.How.CLOSED);
            }
        }
    }

    /** A packet the server sent. */
    public void serverPacket(PacketView v, long tsMicros) {
        if (ended) {
            return;
        }
        serverSeen = true;
        int flags = v.flags();
        long seq = v.seq();
        if ((flags & PacketView.SYN) != 0) {
            serverSeqKnown = true;
            serverNext = TcpSeq.add(seq, 1);
            seq = serverNext;
        }
        if ((flags & PacketView.ACK) != 0 && stream.started()) {
            // The server acknowledged these client bytes, so any of them still missing were lost by the capture.
            long acked = stream.offsetOf(v.ackNumber());
            if (clientFin && acked > clientFinOffset) {
                acked = clientFinOffset; // the client's FIN takes a sequence number but is no byte
            }
            if (acked > stream.nextOffset() && acked - stream.nextOffset() < (1L << 30)) {
                stream.fillGapsUpTo(acked, this);
            }
        }
        int len = v.payloadLength();
        if (len > 0) {
            long fresh = freshServerBytes(seq, len);
            if (fresh > 0) {
                closeMessage();
                if (!answerFrozen) {
                    serverBytes += fresh;
                    answerLastTs = tsMicros;
                }
                int at = v.payloadOffset() + len - (int) fresh;
                if (!serverSpoke) {
                    serverSpoke = true;
                    if (WebSocketFrames.isUpgradeAnswer(v.array(), at, (int) fresh)) {
                        clientFrames = new WebSocketFrames(null, false);
                    }
                }
                out.serverData(nextIndex - 1, v.array(), v.payloadOffset() + len - (int) fresh, (int) fresh, tsMicros);
            }
        }
        if ((flags & PacketView.RST) != 0) {
            serverRst = true;
            end(SessionEnd.How.RESET);
        } else if ((flags & PacketView.FIN) != 0) {
            serverFin = true;
            if (!stream.hasHole()) {
                closeMessage();
            }
            if (clientFin) {
                end(SessionEnd.How.CLOSED);
            }
        }
    }

    /**
     * Nothing new was captured for a while (live mode): the message in progress is taken as complete, and a
     * connection the client already closed is ended.
     */
    public void idleFlush() {
        if (ended) {
            return;
        }
        stream.fillAllGaps(this);
        closeMessage();
        if (clientFin || serverFin) {
            end(SessionEnd.How.IDLE);
        }
    }

    /** Ends the session as it stands (end of input); remaining holes become gaps. */
    public void finish(SessionEnd.How how) {
        end(how);
    }

    private void clientData(long seq, byte[] b, int off, int len, long tsMicros, boolean hasAck, long ack) {
        dataSeen = true;
        stream.start(seq);
        long offset = stream.offsetOf(seq);
        if (hasAck) {
            if (!boundaryAckKnown) {
                boundaryAckKnown = true;
                boundaryAck = ack;
            } else if (TcpSeq.after(ack, boundaryAck) && offset >= stream.nextOffset() && offset > lastStartOffset) {
                // The server spoke since the current message began: a new message starts here. Whatever
                // is still missing before it was answered already, so it will never be captured.
                boundaryAck = ack;
                stream.fillGapsUpTo(offset, this);
                if (offset > stream.nextOffset() || messageOpen) {
                    boundaries.addLast(offset);
                }
                lastStartOffset = offset;
            }
        }
        stream.accept(seq, b, off, len, tsMicros, ack, this);
    }

    @Override
    public void bytes(long offset, byte[] b, int off, int len, long tsMicros, long ack) {
        while (len > 0) {
            Long next = boundaries.peekFirst();
            if (next != null && next <= offset) {
                boundaries.pollFirst();
                closeMessage();
                continue;
            }
            int take = next == null ? len : (int) Math.min(len, next - offset);
            if (!messageOpen) {
                openMessage(offset, tsMicros, ack);
            }
            boolean frameEnded = false;
            if (clientFrames != null && !clientFrames.broken()) {
                take = clientFrames.feedToFrameEnd(b, off, take);
                frameEnded = clientFrames.frameEnded();
            }
            messageLastTs = Math.max(messageLastTs, tsMicros);
            append(b, off, take);
            offset += take;
            off += take;
            len -= take;
            if (frameEnded) {
                closeMessage();
            }
        }
    }

    @Override
    public void gap(long offset, long length) {
        // Counted by the reassembler. Inside a message, the message simply lacks these bytes; after a complete
        // one, they were a message of their own that will not be sent, so its answer must not be waited for.
        if (!messageOpen && nextIndex > 0 && serverSeen) {
            answerFrozen = true;
        }
        clientFrames = null; // frame boundaries are lost with the bytes: messages end as for any protocol
    }

    private void noteClientAck(long ack) {
        if (!ackKnown) {
            ackKnown = true;
            ackBase = ack;
            maxAck = ack;
        } else if (TcpSeq.after(ack, maxAck)) {
            maxAck = ack;
        }
    }

    private long freshServerBytes(long seq, int len) {
        long end = TcpSeq.add(seq, len);
        if (!serverSeqKnown) {
            serverSeqKnown = true;
            serverNext = end;
            return len;
        }
        int ahead = TcpSeq.diff(end, serverNext);
        if (ahead <= 0) {
            return 0; // a retransmission
        }
        serverNext = end;
        return Math.min(ahead, len);
    }

    private void openMessage(long offset, long tsMicros, long ack) {
        settle(nextIndex - 1);
        nextIndex++;
        messageOpen = true;
        messageTs = tsMicros;
        messageLastTs = tsMicros;
        bufLen = 0;
        lastStartOffset = Math.max(lastStartOffset, offset);
        serverBytes = 0;
        answerFrozen = false;
        ackKnown = true;
        ackBase = ack;
        maxAck = ack;
    }

    private void closeMessage() {
        if (!messageOpen) {
            return;
        }
        messageOpen = false;
        byte[] bytes = buf == null ? new byte[0] : bufLen == buf.length ? buf : Arrays.copyOf(buf, bufLen);
        buf = null;
        bufLen = 0;
        out.message(nextIndex - 1, bytes, messageTs);
        long expected = expected(nextIndex - 1);
        if (expected > 0) {
            out.expectedResponse(nextIndex - 1, expected, false);
        }
    }

    private void settle(int index) {
        out.expectedResponse(index, expected(index), true);
        if (index >= 0 && serverSeen && serverBytes > 0 && !answerFrozen && index == nextIndex - 1) {
            out.productionAnswer(index, Math.max(0, answerLastTs - messageLastTs));
        }
    }

    private long expected(int index) {
        if (index < 0 && !synSeen) {
            return 0; // server bytes before the first captured message answer something not captured
        }
        if (serverSeen) {
            return serverBytes;
        }
        if (!ackKnown) {
            return 0;
        }
        return Math.max(0, TcpSeq.diff(maxAck, ackBase));
    }

    private void append(byte[] b, int off, int len) {
        if (buf == null) {
            buf = new byte[len];
        } else if (bufLen + len > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, bufLen + len));
        }
        System.arraycopy(b, off, buf, bufLen, len);
        bufLen += len;
    }

    private void end(SessionEnd.How how) {
        if (ended) {
            return;
        }
        stream.fillAllGaps(this);
        closeMessage();
        settle(nextIndex - 1);
        ended = true;
        out.end(new SessionEnd(how, synSeen, clientFin || clientRst, clientRst, serverFin || serverRst, serverRst,
                nextIndex, stream.gaps(), stream.gapBytes()));
    }
}
