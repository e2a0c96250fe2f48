package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.common.Uuid;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The nodes of an embedded cluster and which one this is: every node is broker and controller, and the controllers
 * vote as a static quorum ({@code controller.quorum.voters}). One node alone is the single-node broker.
 *
 * @param nodeId this node's id
 * @param voters node id to controller HOST:PORT, every node of the cluster (this one included), in the given order
 */
public record QuorumVoters(int nodeId, Map<Integer, ListenAddress> voters) {
    /** The node id of a single-node broker. */
    public static final int SINGLE_NODE_ID = 1;

    /**
     * Parses {@code --controller-voters ID@HOST:PORT,...} for node {@code nodeId}; errors name the option and the fix.
     */
    public static QuorumVoters parse(int nodeId, String text) {
        Map<Integer, ListenAddress> voters = new LinkedHashMap<>();
        for (String entry : text.split(",")) {
            String e = entry.trim();
            int at = e.indexOf('@');
            if (at <= 0) {
                throw new UserInputException("--controller-voters: '" + e + "' is not ID@HOST:PORT (e.g. 1@127.0.0.1:19091)");
            }
            int id;
            try {
                id = Integer.parseInt(e.substring(0, at));
            } catch (NumberFormatException x) {
                throw new UserInputException("--controller-voters: '" + e + "' does not start with a node id number");
            }
            ListenAddress address;
            try {
                address = ListenAddress.parse(e.substring(at + 1));
            } catch (UserInputException x) {
                throw new UserInputException("--controller-voters: " + x.getMessage());
            }
            if (address.port() == 0 || id < 0) {
                throw new UserInputException("--controller-voters: '" + e + "' needs a node id >= 0 and a fixed port");
            }
            if (voters.put(id, address) != null) {
                throw new UserInputException("--controller-voters names node " + id + " twice");
            }
        }
        if (!voters.containsKey(nodeId)) {
            throw new UserInputException("--node-id " + nodeId + " is not one of --controller-voters " + text
                    + ": name this node among the voters");
        }
        return new QuorumVoters(nodeId, voters);
    }

    /** Nodes in the cluster. */
    public int size() {
        return voters.size();
    }

    /** Where this node's controller listens. */
    public ListenAddress controller() {
        return voters.get(nodeId);
    }

    /** The {@code controller.quorum.voters} value. */
    public String config() {
        List<String> out = new ArrayList<>();
        voters.forEach((id, a) -> out.add(id + "@" + a));
        return String.join(",", out);
    }

    /**
     * The cluster id every node formats its storage with: derived from the voters, so nodes started with the same
     * {@code --controller-voters} agree without being told an id.
     */
    public Uuid clusterId() {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(config().getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.wrap(h);
            return new Uuid(b.getLong(), b.getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Replicas of each partition: three, or every node of a smaller cluster. */
    public int replicationFactor() {
        return Math.min(3, size());
    }

    /** Replicas that must have a write before acks=all is answered: all but one, so one node may be down. */
    public int minInsyncReplicas() {
        return Math.max(1, replicationFactor() - 1);
    }
}
