package dev.trafficbus.replay.conversation;

/** Where the answer times of a run go for its report (the run's timeline). Called from any engine thread. */
public interface AnswerSink extends Conversation.StatusListener {
    /** The test server answered the message asking {@code endpoint} (null: not named) after {@code latencyNanos}. */
    void answered(long nowNanos, String endpoint, long latencyNanos);

    /** Production answered the message asking {@code endpoint} after {@code micros}, as captured. */
    void production(long nowNanos, String endpoint, long micros);

    /** {@code reason} (a problem name) happened while the message asking {@code endpoint} waited for its answer. */
    void endpointProblem(String endpoint, String reason);
}
