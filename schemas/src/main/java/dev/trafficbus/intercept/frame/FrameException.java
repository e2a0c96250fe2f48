package dev.trafficbus.intercept.frame;

/** A frame that breaks the {@link InterceptFrames} contract; the channel that sent it should be closed. */
public final class FrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A protocol error described in one line. */
    public FrameException(String message) {
        super(message);
    }
}
