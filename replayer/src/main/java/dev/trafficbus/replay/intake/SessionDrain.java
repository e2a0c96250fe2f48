package dev.trafficbus.replay.intake;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

/**
 * The end of a run, the same for both engines: lets running sessions finish, without limit after the last record
 * was read, within the drain timeout once a stop was asked for; then interrupts what is left (counted by the engine)
 * and gives it a short grace to record its outcome.
 */
public final class SessionDrain {
    /** An engine whose sessions can be waited for and ended. */
    public interface Sessions {
        /** Sessions opened that have not reached an outcome (any thread). */
        int liveSessions();

        /** Ends every session still running, counting it as interrupted. */
        void interruptAll();
    }

    private static final long WAIT_STEP_MILLIS = 20;
    private static final long INTERRUPT_GRACE_NANOS = 2_000_000_000L;

    private SessionDrain() {
    }

    /** Waits as above; {@code eachStep} runs between waits with the current {@link System#nanoTime()}. */
    public static void drain(Sessions engine, BooleanSupplier stopRequested, Duration drainTimeout, LongConsumer eachStep) {
        long deadline = 0;
        boolean bounded = false;
        while (engine.liveSessions() > 0) {
            long now = System.nanoTime();
            if (stopRequested.getAsBoolean() && !bounded) {
                bounded = true;
                deadline = now + drainTimeout.toNanos();
            }
            if (bounded && now - deadline >= 0) {
                engine.interruptAll();
                long giveUp = now + INTERRUPT_GRACE_NANOS;
                while (engine.liveSessions() > 0 && System.nanoTime() - giveUp < 0) {
                    sleep();
                }
                return;
            }
            eachStep.accept(now);
            sleep();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(WAIT_STEP_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
