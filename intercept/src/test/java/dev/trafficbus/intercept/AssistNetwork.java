package dev.trafficbus.intercept;

import java.util.List;

/**
 * Three namespaces on one bridge, the tcpcopy layout: {@code server} (10.77.0.2, the test server, holding the
 * bridge) routes the fake client range 10.99.0.0/16 via {@code assist} (10.77.0.3, ip_forward=0, where intercept
 * captures on {@code a0}); {@code client} (10.77.0.4) owns fake addresses 10.99.0.5, 10.99.1.7 and 10.99.2.9, so a
 * kernel client there sends SYNs from the fake range whose answers go to assist and are dropped there. The same in
 * IPv6: fd77::2 / fd77::3 / fd77::4, fake range fd99::/64 with fd99::5 on the client.
 */
final class AssistNetwork implements AutoCloseable {
    static final String SERVER_IP = "10.77.0.2";
    static final String ASSIST_IP = "10.77.0.3";
    static final String ASSIST_IF = "a0";
    static final String SERVER_IP6 = "fd77::2";
    static final String ASSIST_IP6 = "fd77::3";

    private static final java.util.concurrent.atomic.AtomicInteger CREATED = new java.util.concurrent.atomic.AtomicInteger();

    final String server;
    final String assist;
    final String client;

    private AssistNetwork(String suffix) {
        server = "tbi-srv-" + suffix;
        assist = "tbi-ast-" + suffix;
        client = "tbi-cli-" + suffix;
    }

    /** Creates the namespaces; on failure removes whatever was created. */
    static AssistNetwork create() throws Exception {
        AssistNetwork net = new AssistNetwork(ProcessHandle.current().pid() + "-" + CREATED.incrementAndGet());
        try {
            net.build();
        } catch (Exception e) {
            net.close();
            throw e;
        }
        return net;
    }

    private void build() throws Exception {
        String s = server;
        String a = assist;
        String c = client;
        NetNamespaces.script(List.of(
                "ip netns add " + s, "ip netns add " + a, "ip netns add " + c,
                "ip -n " + s + " link set lo up", "ip -n " + a + " link set lo up", "ip -n " + c + " link set lo up",
                "ip -n " + s + " link add br0 type bridge",
                "ip -n " + s + " link set br0 up",
                "ip -n " + s + " addr add " + SERVER_IP + "/24 dev br0",
                "ip -n " + s + " link add va type veth peer name " + ASSIST_IF + " netns " + a,
                "ip -n " + s + " link add vc type veth peer name c0 netns " + c,
                "ip -n " + s + " link set va master br0 up",
                "ip -n " + s + " link set vc master br0 up",
                "ip -n " + a + " addr add " + ASSIST_IP + "/24 dev " + ASSIST_IF,
                "ip -n " + a + " link set " + ASSIST_IF + " up",
                "ip netns exec " + a + " sysctl -qw net.ipv4.ip_forward=0",
                "ip -n " + c + " addr add 10.77.0.4/24 dev c0",
                "ip -n " + c + " addr add 10.99.0.5/32 dev c0",
                "ip -n " + c + " addr add 10.99.1.7/32 dev c0",
                "ip -n " + c + " addr add 10.99.2.9/32 dev c0",
                "ip -n " + c + " link set c0 up",
                "ip -n " + s + " route add 10.99.0.0/16 via " + ASSIST_IP,
                // the same layout in IPv6; nodad: usable at once instead of after duplicate address detection
                "ip -n " + s + " addr add " + SERVER_IP6 + "/64 dev br0 nodad",
                "ip -n " + a + " addr add " + ASSIST_IP6 + "/64 dev " + ASSIST_IF + " nodad",
                "ip netns exec " + a + " sysctl -qw net.ipv6.conf.all.forwarding=0",
                "ip -n " + c + " addr add fd77::4/64 dev c0 nodad",
                "ip -n " + c + " addr add fd99::5/128 dev c0 nodad",
                "ip -n " + s + " -6 route add fd99::/64 via " + ASSIST_IP6));
    }

    @Override
    public void close() {
        NetNamespaces.delete(server, assist, client);
    }
}
