package dev.trafficbus.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficbus.intercept.frame.Route;
import org.junit.jupiter.api.Test;

class RouteTableTest {
    private static final byte[] FAKE = {10, 99, 3, 4};

    @Test
    void theLongestPrefixWinsThenTheLatestRegistration() {
        RouteTable<String> table = new RouteTable<>();
        assertThat(table.lookup(FAKE, 0, 4, 1000)).isNull();
        table.register(Route.parse("10.99.0.0/16"), "wide");
        table.register(Route.parse("10.99.3.0/24:1000-1999"), "narrow");
        assertThat(table.lookup(FAKE, 0, 4, 1000)).isEqualTo("narrow");
        assertThat(table.lookup(FAKE, 0, 4, 2000)).isEqualTo("wide");
        table.register(Route.parse("10.99.3.0/24:0-65535"), "newer");
        assertThat(table.lookup(FAKE, 0, 4, 1000)).isEqualTo("newer");
    }

    @Test
    void routesOverlapWhenSomeAddressAndPortMatchesBoth() {
        Route block3 = Route.parse("10.99.0.0/16:6144-10239");
        assertThat(RouteTable.overlaps(block3, Route.parse("10.99.0.0/16:6144-10239"))).isTrue();
        assertThat(RouteTable.overlaps(block3, Route.parse("10.99.0.0/16:10239-12000"))).isTrue();
        assertThat(RouteTable.overlaps(block3, Route.parse("10.99.7.0/24:8000-8000"))).as("nested prefix").isTrue();
        assertThat(RouteTable.overlaps(block3, Route.parse("10.99.0.0/16:10240-14335"))).as("next block").isFalse();
        assertThat(RouteTable.overlaps(block3, Route.parse("10.98.0.0/16:6144-10239"))).isFalse();
        assertThat(RouteTable.overlaps(Route.parse("10.99.0.0/17"), Route.parse("10.99.128.0/17"))).isFalse();
        assertThat(RouteTable.overlaps(Route.parse("0.0.0.0/0"), Route.parse("fd99::/64"))).isFalse();
        assertThat(RouteTable.overlaps(Route.parse("fd99::/64"), Route.parse("fd99::5/128"))).isTrue();
    }

    @Test
    void aConflictingRegistrationIsNotAddedUnlessTheOwnerMayShare() {
        RouteTable<String> table = new RouteTable<>();
        assertThat(table.registerUnlessConflicting(Route.parse("10.99.0.0/16"), "a", o -> false)).isNull();
        assertThat(table.registerUnlessConflicting(Route.parse("10.99.3.0/24"), "b", o -> false)).isEqualTo("a");
        assertThat(table.lookup(FAKE, 0, 4, 80)).isEqualTo("a");
        assertThat(table.registerUnlessConflicting(Route.parse("10.99.3.0/24"), "a", o -> false))
                .as("its own routes never conflict").isNull();
        assertThat(table.registerUnlessConflicting(Route.parse("10.99.3.0/24"), "b", o -> true)).isNull();
        assertThat(table.lookup(FAKE, 0, 4, 80)).isEqualTo("b");
        assertThat(table.size()).isEqualTo(3);
    }

    @Test
    void aClosedOwnerLosesEveryRouteAndTheVersionMoves() {
        RouteTable<String> table = new RouteTable<>();
        table.register(Route.parse("10.99.0.0/16"), "a");
        table.register(Route.parse("10.98.0.0/16"), "a");
        table.register(Route.parse("10.99.3.0/24"), "b");
        long v = table.version();
        assertThat(table.removeOwner("a")).isEqualTo(2);
        assertThat(table.version()).isGreaterThan(v);
        assertThat(table.lookup(new byte[] {10, 98, 1, 1}, 0, 4, 80)).isNull();
        assertThat(table.lookup(FAKE, 0, 4, 80)).isEqualTo("b");
        assertThat(table.unregister(Route.parse("10.99.3.0/24"), "a")).isFalse();
        assertThat(table.unregister(Route.parse("10.99.3.0/24"), "b")).isTrue();
        assertThat(table.size()).isZero();
    }

    @Test
    void ipv6DestinationsMatchOnlyIpv6Routes() {
        RouteTable<String> table = new RouteTable<>();
        table.register(Route.parse("0.0.0.0/0"), "any4");
        table.register(Route.parse("fd00:99::/32"), "six");
        byte[] v6 = new byte[16];
        v6[0] = (byte) 0xfd;
        v6[3] = (byte) 0x99;
        assertThat(table.lookup(v6, 0, 16, 80)).isEqualTo("six");
        assertThat(table.lookup(FAKE, 0, 4, 80)).isEqualTo("any4");
    }

    @Test
    void theHoldAreaKeepsOrderExpiresOnTimeAndRespectsItsBudget() {
        HeldResponses held = new HeldResponses(1_000, 2, 1 << 20);
        byte[] a = {1, 2, 3, 4};
        assertThat(held.hold(a, 0, 4, 0, 4, 80, 0)).isTrue();
        assertThat(held.hold(a, 0, 4, 0, 4, 81, 500)).isTrue();
        assertThat(held.hold(a, 0, 4, 0, 4, 82, 600)).as("over the packet budget").isFalse();
        assertThat(held.expire(999)).isZero();
        assertThat(held.expire(1_000)).isEqualTo(1);
        held.releaseAll(h -> h.port() == 81);
        assertThat(held.isEmpty()).isTrue();
        assertThat(new HeldResponses(0, 10, 100).hold(a, 0, 4, 0, 4, 80, 0)).as("holding disabled").isFalse();
    }
}
