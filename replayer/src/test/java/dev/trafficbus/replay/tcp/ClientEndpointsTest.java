package dev.trafficbus.replay.tcp;

import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientEndpointsTest {
    @Test
    void endpointsAreDistinctInsideTheRangeAndMapBackToTheirId() throws Exception {
        ClientRange range = ClientRange.parse("10.99.0.0/16");
        ClientEndpoints e = new ClientEndpoints(range, 3, 1_000_000_000L);
        Set<String> seen = new HashSet<>();
        byte[] a = new byte[4];
        for (int i = 0; i < 20_000; i++) {
            long id = e.acquire(0);
            e.address(id, a, 0);
            int port = e.port(id);
            assertThat(range.contains(a, 0, 4)).isTrue();
            assertThat(port).isBetween(ClientEndpoints.firstPort(3), ClientEndpoints.lastPort(3));
            assertThat(seen.add(InetAddress.getByAddress(a).getHostAddress() + ":" + port)).isTrue();
            assertThat(e.idOf(a, 0, port)).isEqualTo(id);
        }
        assertThat(e.idOf(InetAddress.getByName("10.98.0.1").getAddress(), 0, ClientEndpoints.firstPort(3))).isEqualTo(-1);
        assertThat(e.idOf(a, 0, ClientEndpoints.firstPort(4))).isEqualTo(-1);
    }

    @Test
    void networkAndBroadcastAddressesAreNeverUsed() {
        ClientRange range = ClientRange.parse("10.99.0.7/30"); // host bits masked: 10.99.0.4/30
        assertThat(range.toString()).isEqualTo("10.99.0.4/30");
        assertThat(range.hosts()).isEqualTo(2);
        byte[] a = new byte[4];
        range.host(0, a, 0);
        assertThat(a[3]).isEqualTo((byte) 5);
        range.host(1, a, 0);
        assertThat(a[3]).isEqualTo((byte) 6);
    }

    @Test
    void instancesOwnDisjointPortBlocks() {
        for (int i = 0; i + 1 < ClientEndpoints.BLOCKS; i++) {
            assertThat(ClientEndpoints.lastPort(i)).isLessThan(ClientEndpoints.firstPort(i + 1));
        }
        assertThat(ClientEndpoints.lastPort(ClientEndpoints.BLOCKS - 1)).isLessThanOrEqualTo(65535);
    }

    @Test
    void aReleasedEndpointStaysQuarantined() {
        ClientEndpoints e = new ClientEndpoints(ClientRange.parse("10.99.0.0/30"), 0, 1_000L);
        long total = 2L * ClientEndpoints.BLOCK_SIZE;
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < total; i++) {
            ids.add(e.acquire(0));
        }
        assertThat(ids).hasSize((int) total).doesNotContain(-1L);
        assertThat(e.acquire(0)).isEqualTo(-1);
        e.release(5, 0);
        assertThat(e.acquire(500)).as("still quarantined").isEqualTo(-1);
        assertThat(e.acquire(1_000)).isEqualTo(5);
    }

    @Test
    void quarantinedEndpointsComeBackInTheOrderTheyWereReleased() {
        ClientEndpoints e = new ClientEndpoints(ClientRange.parse("10.99.0.0/30"), 0, 1_000L);
        long total = 2L * ClientEndpoints.BLOCK_SIZE;
        long[] ids = new long[(int) total];
        for (int i = 0; i < total; i++) {
            ids[i] = e.acquire(0);
        }
        // Every endpoint released, one per nanosecond: the queue grows far past its first size.
        for (int i = 0; i < total; i++) {
            e.release(ids[i], i);
        }
        e.release(ids[0], total); // a second release of an endpoint not in use changes nothing
        assertThat(e.inUse()).isZero();
        assertThat(e.quarantined()).isEqualTo((int) total);
        assertThat(e.acquire(999)).as("the first release is free at 1,000").isEqualTo(-1);
        assertThat(e.acquire(1_000)).isEqualTo(ids[0]);
        assertThat(e.acquire(1_000)).as("the second one is free a nanosecond later").isEqualTo(-1);
        assertThat(e.acquire(1_001)).isEqualTo(ids[1]);
        assertThat(e.quarantined()).isEqualTo((int) total - 2);
        assertThat(e.acquire(total + 1_000)).as("all free once the last one's time is up").isNotEqualTo(-1);
        assertThat(e.quarantined()).isZero();
        assertThat(e.inUse()).isEqualTo(3);
    }

    @Test
    void ipv6RangesWork() throws Exception {
        ClientRange range = ClientRange.parse("fd99::/64");
        ClientEndpoints e = new ClientEndpoints(range, 0, 0);
        byte[] a = new byte[16];
        range.host(0, a, 0);
        assertThat(InetAddress.getByAddress(a).getHostAddress()).isEqualTo("fd99:0:0:0:0:0:0:1");
        long id = e.acquire(0);
        e.address(id, a, 0);
        assertThat(range.contains(a, 0, 16)).isTrue();
        assertThat(e.port(id)).isBetween(ClientEndpoints.firstPort(0), ClientEndpoints.lastPort(0));
        assertThat(e.idOf(a, 0, e.port(id))).isEqualTo(id);
    }

    @Test
    void badRangesAreRejectedNamingTheOption() {
        assertThatThrownBy(() -> ClientRange.parse("10.99.0.0")).isInstanceOf(UserInputException.class)
                .hasMessageContaining("--client-range");
        assertThatThrownBy(() -> ClientRange.parse("10.99.0.0/32")).isInstanceOf(UserInputException.class)
                .hasMessageContaining("prefix length");
        assertThatThrownBy(() -> ClientRange.parse("example.com/16")).isInstanceOf(UserInputException.class);
    }

    @Test
    void onlyFullLiteralAddressesAreAccepted() {
        // InetAddress alone reads "10.99" as 10.0.0.99 and sends hex words like "cafe" to DNS.
        for (String bad : new String[] {"10.99/16", "10.99.1/24", "cafe/16", "beef.cafe/16", "010.99.0.0/16x",
                "10.99.0.0/16:2048-6143", "10.99.0.256/16", "::ffff:10.99.0.0/112", "fd99::g/64", "1:2/16"}) {
            assertThatThrownBy(() -> ClientRange.parse(bad)).as(bad).isInstanceOf(UserInputException.class)
                    .hasMessageContaining("--client-range");
        }
        assertThat(ClientRange.parse(" 10.99.0.0/16 ").toString()).isEqualTo("10.99.0.0/16");
        assertThat(ClientRange.parse("[fd99::]/64").addressLength()).isEqualTo(16);
    }

    @Test
    void aNewRunDoesNotStartOnTheLastRunsFirstEndpoints() {
        // The test server may still hold the 4-tuples of a run that was killed before it could reset them.
        ClientRange range = ClientRange.parse("10.99.0.0/16");
        long first = new ClientEndpoints(range, 2, 1_000L).acquire(0);
        long again = new ClientEndpoints(range, 2, 1_000L).acquire(0);
        assertThat(again).isNotEqualTo(first);
    }
}
