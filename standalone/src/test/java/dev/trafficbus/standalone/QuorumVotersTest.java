package dev.trafficbus.standalone;

import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuorumVotersTest {
    private static final String THREE = "1@127.0.0.1:19091,2@127.0.0.1:19092,3@127.0.0.1:19093";

    @Test
    void everyNodeOfOneClusterFormatsWithTheSameIdAndItsOwnControllerAddress() {
        QuorumVoters one = QuorumVoters.parse(1, THREE);
        QuorumVoters three = QuorumVoters.parse(3, THREE);
        assertThat(one.clusterId()).isEqualTo(three.clusterId())
                .isNotEqualTo(QuorumVoters.parse(1, "1@127.0.0.1:19091,2@127.0.0.1:19092").clusterId());
        assertThat(three.controller()).isEqualTo(new ListenAddress("127.0.0.1", 19093));
        assertThat(one.config()).isEqualTo(THREE);
        assertThat(one.replicationFactor()).isEqualTo(3);
        assertThat(one.minInsyncReplicas()).isEqualTo(2);
        assertThat(QuorumVoters.parse(1, "1@127.0.0.1:19091").minInsyncReplicas()).isEqualTo(1);
    }

    @Test
    void aBadListNamesTheOptionAndTheEntry() {
        assertThatThrownBy(() -> QuorumVoters.parse(4, THREE)).isInstanceOf(UserInputException.class)
                .hasMessage("--node-id 4 is not one of --controller-voters " + THREE + ": name this node among the voters");
        assertThatThrownBy(() -> QuorumVoters.parse(1, "1@127.0.0.1:19091,x@h:1")).isInstanceOf(UserInputException.class)
                .hasMessage("--controller-voters: 'x@h:1' does not start with a node id number");
        assertThatThrownBy(() -> QuorumVoters.parse(1, "1@127.0.0.1:19091,1@127.0.0.1:19092"))
                .hasMessage("--controller-voters names node 1 twice");
        assertThatThrownBy(() -> QuorumVoters.parse(1, "127.0.0.1:19091"))
                .hasMessage("--controller-voters: '127.0.0.1:19091' is not ID@HOST:PORT (e.g. 1@127.0.0.1:19091)");
        assertThatThrownBy(() -> QuorumVoters.parse(1, "1@127.0.0.1:0"))
                .hasMessage("--controller-voters: '1@127.0.0.1:0' needs a node id >= 0 and a fixed port");
    }
}
