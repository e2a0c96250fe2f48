package dev.trafficbus.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.pcap4j.core.BpfProgram;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

class OwnChannelFilterTest {
    @Test
    void aSpecificListenAddressIsLeftOutOnlyWithItsPort() throws Exception {
        String f = OwnChannelFilter.exclude("tcp and src port 80", new InetSocketAddress("10.1.1.3", 36524),
                List.of(InetAddress.getByName("192.0.2.1")));
        assertThat(f).isEqualTo("(tcp and src port 80) and not (tcp and ((src port 36524 and (src host 10.1.1.3))"
                + " or (dst port 36524 and (dst host 10.1.1.3))))");
    }

    @Test
    void aWildcardListenNamesEveryLocalAddressAndLibpcapCompilesIt() throws Exception {
        List<InetAddress> local = List.of(InetAddress.getByName("10.1.1.3"), InetAddress.getByName("fd77::3"),
                InetAddress.getByName("fe80::1%1"));
        String f = OwnChannelFilter.exclude("tcp", new InetSocketAddress(36524), local);
        assertThat(f).contains("src host 10.1.1.3 or src host fd77:0:0:0:0:0:0:3 or src host fe80:0:0:0:0:0:0:1")
                .doesNotContain("%");
        BpfProgram prog = Pcaps.compileFilter(65535, DataLinkType.EN10MB, f, BpfProgram.BpfCompileMode.OPTIMIZE,
                (java.net.Inet4Address) InetAddress.getByName("255.255.255.0"));
        assertThat(prog.getExpression()).isEqualTo(f);
        prog.free();
        assertThat(OwnChannelFilter.exclude("tcp", new InetSocketAddress(36524), List.of())).isEqualTo("tcp");
    }
}
