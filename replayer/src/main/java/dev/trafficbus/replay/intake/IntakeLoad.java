package dev.trafficbus.replay.intake;

/** What the intake reads of an engine to decide how far ahead of it the topic is read (any thread). */
public interface IntakeLoad {
    /** Captured message bytes handed to sessions and not yet written or dropped. */
    long pendingBytes();

    /** Connections open to the target at once at most (--max-connections): further sessions wait their turn. */
    int connectionSlots();

    /** Connection slots held by sessions now. */
    int slotsInUse();

    /** Sessions holding a connection slot that cannot go on until more of the capture is consumed. */
    int starvedSlots();

    /** True when a session holding a slot waits for more of {@code partition}. */
    boolean starvedOn(int partition);

    /** Sessions waiting for a connection slot. */
    int sessionsWaitingForSlot();
}
