package dev.trafficbus.flow;

import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.packet.TestPackets;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlowKeyTest {
    private final PacketView view = new PacketView();

    @Test
    void bothDirectionsOfAConnectionShareOneKey() throws Exception {
        byte[] request = TestPackets.ipv4(new int[] {10, 0, 0, 2}, 51000, new int[] {10, 0, 0, 1}, 80, 1, 1,
                PacketView.ACK, new byte[0], new byte[5]);
        byte[] response = TestPackets.ipv4(new int[] {10, 0, 0, 1}, 80, new int[] {10, 0, 0, 2}, 51000, 1, 6,
                PacketView.ACK, new byte[0], new byte[9]);
        assertThat(view.wrap(request, 0, request.length)).isEqualTo(PacketStatus.TCP);
        byte[] k1 = FlowKey.keyBytes(view, true);
        assertThat(view.wrap(response, 0, response.length)).isEqualTo(PacketStatus.TCP);
        byte[] k2 = FlowKey.keyBytes(view, false);
        assertThat(k1).isEqualTo(k2);

        FlowKey key = FlowKey.parse(k1);
        assertThat(key.serverAddress()).isEqualTo(InetAddress.getByName("10.0.0.1"));
        assertThat(key.serverPort()).isEqualTo(80);
        assertThat(key.clientAddress()).isEqualTo(InetAddress.getByName("10.0.0.2"));
        assertThat(key.clientPort()).isEqualTo(51000);
        assertThat(key).hasToString("10.0.0.2:51000 -> 10.0.0.1:80");
        assertThat(key).isEqualTo(FlowKey.of(key.serverAddress(), 80, key.clientAddress(), 51000));
    }

    @Test
    void ipv6KeysRoundTrip() throws Exception {
        InetAddress s = InetAddress.getByName("fd00::1");
        InetAddress c = InetAddress.getByName("fd00::2");
        FlowKey key = FlowKey.of(s, 443, c, 65535);
        FlowKey back = FlowKey.parse(key.toBytes());
        assertThat(back.ipVersion()).isEqualTo(6);
        assertThat(back.clientPort()).isEqualTo(65535);
        assertThat(back).hasToString("[fd00:0:0:0:0:0:0:2]:65535 -> [fd00:0:0:0:0:0:0:1]:443");
    }

    @Test
    void rejectsBytesThatAreNotAKey() {
        assertThatThrownBy(() -> FlowKey.parse(new byte[] {4, 1, 2})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 bytes");
        assertThatThrownBy(() -> FlowKey.parse(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void matchesTellsTheKeysPacketsFromOthersWithoutBuildingAKey() {
        byte[] request = TestPackets.ipv4(new int[] {10, 0, 0, 2}, 51000, new int[] {10, 0, 0, 1}, 80, 1, 1,
                PacketView.ACK, new byte[0], new byte[5]);
        byte[] response = TestPackets.ipv4(new int[] {10, 0, 0, 1}, 80, new int[] {10, 0, 0, 2}, 51000, 1, 6,
                PacketView.ACK, new byte[0], new byte[9]);
        byte[] otherPort = TestPackets.ipv4(new int[] {10, 0, 0, 2}, 51001, new int[] {10, 0, 0, 1}, 80, 1, 1,
                PacketView.ACK, new byte[0], new byte[5]);
        byte[] otherServer = TestPackets.ipv4(new int[] {10, 0, 0, 2}, 51000, new int[] {10, 0, 0, 3}, 80, 1, 1,
                PacketView.ACK, new byte[0], new byte[5]);
        view.wrap(request, 0, request.length);
        FlowKey key = FlowKey.of(view, true);
        assertThat(key.matches(view, true)).isTrue();
        assertThat(key.matches(view, false)).isFalse(); // the same packet read the other way round is another flow
        view.wrap(response, 0, response.length);
        assertThat(key.matches(view, false)).isTrue();
        view.wrap(otherPort, 0, otherPort.length);
        assertThat(key.matches(view, true)).isFalse();
        view.wrap(otherServer, 0, otherServer.length);
        assertThat(key.matches(view, true)).isFalse();
    }

    @Test
    void flowsBehindOneClientAddressSpreadOverATableByTheirPortsAlone() throws Exception {
        InetAddress server = InetAddress.getByName("10.0.0.1");
        InetAddress client = InetAddress.getByName("10.0.0.2");
        Set<Integer> hashes = new HashSet<>();
        for (int port = 1024; port < 65536; port++) {
            hashes.add(FlowKey.of(server, 80, client, port).hashCode());
        }
        assertThat(hashes).as("one hash per client port").hasSize(65536 - 1024);
        // 3,000 connections open at once from consecutive ports, in a table of 4,096 slots.
        int[] slots = new int[4096];
        int most = 0;
        for (int port = 40000; port < 43000; port++) {
            byte[] key = FlowKey.of(server, 80, client, port).toBytes();
            assertThat(FlowKey.hash(key)).isEqualTo(FlowKey.parse(key).hashCode());
            most = Math.max(most, ++slots[FlowKey.hash(key) & 4095]);
        }
        assertThat(most).as("flows in the fullest slot").isLessThanOrEqualTo(8);
    }
}
