package dev.trafficbus.replay.intake;

import dev.trafficbus.cli.UserInputException;
import dev.trafficbus.flow.FlowKey;
import dev.trafficbus.replay.TargetAddress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.HashMap;
import java.util.Map;

/**
 * Refuses to replay captured traffic back onto the server it was captured from: the target must not be the
 * address and port of a captured server, nor this host's own port when that server runs on this host.
 */
public final class ProductionGuard {
    private final InetSocketAddress target;
    private final boolean targetLocal;
    private final Map<InetAddress, Boolean> local = new HashMap<>();

    ProductionGuard(InetSocketAddress target) {
        this.target = target;
        this.targetLocal = target.getAddress() != null && isLocal(target.getAddress());
    }

    /** Throws a {@link UserInputException} when {@code flow}'s server is the target. */
    void check(FlowKey flow) {
        if (flow.serverPort() != target.getPort()) {
            return;
        }
        InetAddress server = flow.serverAddress();
        boolean same = server.equals(target.getAddress()) || (targetLocal && isLocal(server));
        if (same) {
            throw new UserInputException("--target " + TargetAddress.show(target) + " is the captured server "
                    + TargetAddress.show(new InetSocketAddress(server, flow.serverPort()))
                    + " itself (session " + flow + "): replaying would send copied traffic to production. "
                    + "Use a test server, or add --allow-production-target if this is intended");
        }
    }

    private boolean isLocal(InetAddress a) {
        return local.computeIfAbsent(a, x -> {
            if (x.isLoopbackAddress() || x.isAnyLocalAddress()) {
                return true;
            }
            try {
                return NetworkInterface.getByInetAddress(x) != null;
            } catch (SocketException e) {
                return false;
            }
        });
    }
}
