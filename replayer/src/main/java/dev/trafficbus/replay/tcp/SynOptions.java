package dev.trafficbus.replay.tcp;

import dev.trafficbus.packet.PacketView;

/**
 * The TCP options a replayed SYN carries: those of the captured SYN, or defaults for a capture that started
 * mid-connection. Timestamps are left out: every later segment would have to carry them.
 *
 * @param mss           maximum segment size, or -1 for the path MTU's
 * @param wscale        window-scale shift, or -1 for no scaling
 * @param sackPermitted SACK-permitted option
 */
public record SynOptions(int mss, int wscale, boolean sackPermitted) {
    /** For a session whose SYN was not captured. */
    public static final SynOptions FABRICATED = new SynOptions(-1, 7, true);

    /** The options of the captured SYN the view is wrapped on. */
    public static SynOptions of(PacketView v) {
        return new SynOptions(v.mssOption(), v.windowScaleOption(), v.sackPermittedOption());
    }
}
