package dev.trafficbus.replay.conversation;

/**
 * A Redis connection read as RESP in both directions: every command the client finished is answered by one
 * reply, pipelined or not. Commands answered by a stream of replies (SUBSCRIBE, MONITOR, replication) break
 * that rule, so the session says it is broken and the conversation leaves framing.
 */
final class RespSession implements FramedSession, RespReader.Owner {
    private final RespReader commands = new RespReader(this);
    private final RespReader replies = new RespReader(this);
    private long commandsEnded;
    private long repliesEnded;
    private boolean manyReplies;
    /** The first command finished since {@link #takeFirstCommand} last asked, or null. */
    private String firstCommand;

    @Override
    public void clientBytes(byte[] b, int off, int len) {
        commands.feed(b, off, len);
    }

    @Override
    public void serverBytes(byte[] b, int off, int len) {
        replies.feed(b, off, len);
    }

    @Override
    public boolean broken() {
        return commands.broken() || replies.broken() || manyReplies;
    }

    /** A whole command was seen: framing can judge. */
    boolean confirmed() {
        return commandsEnded > 0;
    }

    /** Every finished command has its reply. */
    boolean answered() {
        return repliesEnded >= commandsEnded;
    }

    /** The name of the first command finished since the last call (e.g. {@code GET}), or null. */
    String takeFirstCommand() {
        String c = firstCommand;
        firstCommand = null;
        return c;
    }

    @Override
    public void value(RespReader r) {
        if (r == commands) {
            commandsEnded++;
            if (firstCommand == null) {
                firstCommand = r.firstWord();
            }
            if (r.firstWordIs("SUBSCRIBE") || r.firstWordIs("PSUBSCRIBE") || r.firstWordIs("SSUBSCRIBE")
                    || r.firstWordIs("MONITOR") || r.firstWordIs("SYNC") || r.firstWordIs("PSYNC")) {
                manyReplies = true;
            }
        } else {
            repliesEnded++;
        }
    }
}
