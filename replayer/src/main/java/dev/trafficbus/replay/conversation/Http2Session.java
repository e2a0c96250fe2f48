package dev.trafficbus.replay.conversation;

/**
 * The streams of one HTTP/2 connection, from both directions' frames: which client streams the client has
 * finished sending (END_STREAM) and the server has not finished answering (END_STREAM or RST_STREAM on
 * either side; a GOAWAY refuses every stream above its last id). The answer to a message is complete once
 * the server's SETTINGS came and no finished request waits for its answer, or the server cannot send
 * more because the client's flow-control window is used up (the client's next message opens it).
 * Single-threaded; the stream table grows to the most streams open at once and allocates nothing after.
 */
final class Http2Session implements FramedSession, Http2Reader.Owner {
    private static final int CLIENT_ENDED = 1;
    private static final int SERVER_ENDED = 2;
    private static final int SETTINGS_INITIAL_WINDOW_SIZE = 4;
    private static final int DEFAULT_WINDOW = 65_535;

    private final Http2Reader client;
    private final Http2Reader server;
    /** Null unless a report wants each stream's endpoint and status. */
    private final Http2Endpoints endpoints;
    // Open client streams: id, state bits, the client's receive window for it.
    private int[] ids = new int[16];
    private int[] states = new int[16];
    private long[] windows = new long[16];
    private int open;
    private int awaited;
    private long connectionWindow = DEFAULT_WINDOW;
    private long initialWindow = DEFAULT_WINDOW;
    private boolean serverSettings;
    private int goAwayLast = Integer.MAX_VALUE;
    private long streamsEnded;
    /** Client streams the server finished answering (its END_STREAM after the client's). */
    private long streamsAnswered;
    private long resets;
    private long targetResets;

    /** How the session's frames were found. */
    enum Start {
        /** The client's preface. */
        PREFACE,
        /** {@code Upgrade: h2c} answered 101: stream 1 is the upgrading request, awaiting its answer. */
        UPGRADE,
        /** Frames without a preface: a capture begun mid-connection (the SETTINGS are long past). */
        MID_CONNECTION
    }

    /** {@code endpoints} (may be null) hears every stream's request and status; never mid-connection. */
    Http2Session(Start start, Http2Endpoints endpoints) {
        client = new Http2Reader(this, start != Start.MID_CONNECTION);
        server = new Http2Reader(this, false);
        // Mid-connection the HPACK table is unknown: header blocks cannot be read.
        this.endpoints = start == Start.MID_CONNECTION ? null : endpoints;
        if (this.endpoints != null) {
            client.keepHeaderBlocks();
            server.keepHeaderBlocks();
        }
        serverSettings = start == Start.MID_CONNECTION;
        if (start == Start.UPGRADE) {
            int k = add(1);
            states[k] = CLIENT_ENDED;
            awaited++;
        }
    }

    @Override
    public void clientBytes(byte[] b, int off, int len) {
        client.feed(b, off, len);
    }

    @Override
    public void serverBytes(byte[] b, int off, int len) {
        server.feed(b, off, len);
    }

    @Override
    public boolean broken() {
        return client.broken() || server.broken();
    }

    /** Every finished request is answered (or the server waits for the client's window to open). */
    boolean answered() {
        if (!serverSettings) {
            return false;
        }
        if (awaited == 0 || connectionWindow <= 0) {
            return true;
        }
        for (int k = 0; k < open; k++) {
            if (states[k] == CLIENT_ENDED && windows[k] <= 0) {
                return true;
            }
        }
        return false;
    }

    /** The server's SETTINGS came and no finished request waits for its answer: nothing is owed to the client. */
    boolean nothingAwaited() {
        return serverSettings && awaited == 0;
    }

    /** Client streams answered completely (END_STREAM or RST_STREAM), for tests and reports. */
    long streamsEnded() {
        return streamsEnded;
    }

    /** Client streams the server answered to their end, for telling a refused message from an answered one. */
    long streamsAnswered() {
        return streamsAnswered;
    }

    /** Streams reset by either side or refused by a GOAWAY. */
    long resets() {
        return resets;
    }

    /**
     * Client streams the server reset (RST_STREAM) or refused (GOAWAY) before it had finished answering them;
     * a reset the client sent was captured, so replaying it is no problem.
     */
    long targetResets() {
        return targetResets;
    }

    @Override
    public void frame(Http2Reader r) {
        int id = r.stream();
        if (endpoints != null && (r.type() == Http2Reader.HEADERS || r.type() == Http2Reader.CONTINUATION)
                && (r.flags() & Http2Reader.FLAG_END_HEADERS) != 0) {
            if (r == client) {
                endpoints.clientBlock(id, r.headerBlock(), r.headerBlockLength());
            } else {
                endpoints.serverBlock(id, r.headerBlock(), r.headerBlockLength());
            }
        }
        switch (r.type()) {
            case Http2Reader.HEADERS, Http2Reader.DATA -> {
                boolean end = (r.flags() & Http2Reader.FLAG_END_STREAM) != 0;
                if (r == client) {
                    clientFrame(r, id, end);
                } else {
                    serverFrame(r, id, end);
                }
            }
            case Http2Reader.RST_STREAM -> {
                int k = find(id);
                if (k >= 0) {
                    resets++;
                    if (r == server && (states[k] & SERVER_ENDED) == 0) {
                        targetResets++;
                    }
                    drop(k);
                }
            }
            case Http2Reader.SETTINGS -> {
                if ((r.flags() & Http2Reader.FLAG_ACK) == 0) {
                    if (r == server) {
                        serverSettings = true;
                    } else {
                        clientSettings(r);
                    }
                }
            }
            case Http2Reader.WINDOW_UPDATE -> {
                if (r == client) {
                    long inc = r.int31(0);
                    if (id == 0) {
                        connectionWindow += inc;
                    } else {
                        int k = find(id);
                        if (k >= 0) {
                            windows[k] += inc;
                        }
                    }
                }
            }
            case Http2Reader.GOAWAY -> {
                if (r == server) {
                    goAwayLast = r.int31(0);
                    for (int k = open - 1; k >= 0; k--) {
                        if (ids[k] > goAwayLast) {
                            resets++;
                            targetResets++;
                            drop(k);
                        }
                    }
                }
            }
            default -> {
                // PRIORITY, PUSH_PROMISE, PING, CONTINUATION, extensions: nothing an answer's end depends on
            }
        }
    }

    private void clientFrame(Http2Reader r, int id, boolean end) {
        if ((id & 1) == 0) {
            return; // stream 0 or a pushed stream: nothing the client asks
        }
        int k = find(id);
        if (k < 0) {
            if (r.type() == Http2Reader.HEADERS && id > goAwayLast) {
                targetResets++; // opened after the server's GOAWAY: refused, never answered
                return;
            }
            if (r.type() != Http2Reader.HEADERS) {
                return; // a stream already closed: nothing more is answered
            }
            k = add(id);
        }
        if (end && (states[k] & CLIENT_ENDED) == 0) {
            states[k] |= CLIENT_ENDED;
            if ((states[k] & SERVER_ENDED) != 0) {
                remove(k);
            } else {
                awaited++;
            }
        }
    }

    private void serverFrame(Http2Reader r, int id, boolean end) {
        int k = find(id);
        if (k < 0) {
            return;
        }
        if (r.type() == Http2Reader.DATA) {
            connectionWindow -= r.length();
            windows[k] -= r.length();
        }
        if (end) {
            close(k);
        }
    }

    private void clientSettings(Http2Reader r) {
        for (int at = 0; at + 6 <= r.kept(); at += 6) {
            if (r.uint16(at) == SETTINGS_INITIAL_WINDOW_SIZE) {
                long size = r.int31(at + 2);
                long delta = size - initialWindow;
                initialWindow = size;
                for (int k = 0; k < open; k++) {
                    windows[k] += delta;
                }
            }
        }
    }

    /** The server is done with stream at {@code k}. */
    private void close(int k) {
        streamsEnded++;
        if ((states[k] & CLIENT_ENDED) != 0) {
            streamsAnswered++;
            awaited--;
            remove(k);
        } else {
            states[k] |= SERVER_ENDED; // answered before the request ended (an error, or a reset)
        }
    }

    /** Stream at {@code k} is over in both directions (reset, or refused by a GOAWAY). */
    private void drop(int k) {
        if (states[k] == CLIENT_ENDED) {
            awaited--;
        }
        streamsEnded++;
        remove(k);
    }

    private int find(int id) {
        for (int k = open - 1; k >= 0; k--) {
            if (ids[k] == id) {
                return k;
            }
        }
        return -1;
    }

    private int add(int id) {
        if (open == ids.length) {
            ids = java.util.Arrays.copyOf(ids, open * 2);
            states = java.util.Arrays.copyOf(states, open * 2);
            windows = java.util.Arrays.copyOf(windows, open * 2);
        }
        ids[open] = id;
        states[open] = 0;
        windows[open] = initialWindow;
        return open++;
    }

    private void remove(int k) {
        open--;
        ids[k] = ids[open];
        states[k] = states[open];
        windows[k] = windows[open];
    }
}
