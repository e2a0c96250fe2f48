package dev.trafficbus.flow;

import dev.trafficbus.packet.PacketView;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The Kafka key of every packet of one TCP connection: server endpoint then client endpoint, so both
 * directions of a connection share one key (and one partition). Layout:
 * {@code [ip version 4|6][server address][server port u16][client address][client port u16]}.
 */
public final class FlowKey {
    private final byte[] bytes;

    private FlowKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The key bytes of the packet in {@code view}, whose sender is the client when {@code clientToServer}. */
    public static byte[] keyBytes(PacketView view, boolean clientToServer) {
        int a = view.addressLength();
        byte[] key = new byte[1 + 2 * (a + 2)];
        key[0] = (byte) view.ipVersion();
        int server = clientToServer ? view.dstAddressOffset() : view.srcAddressOffset();
        int client = clientToServer ? view.srcAddressOffset() : view.dstAddressOffset();
        int serverPort = clientToServer ? view.dstPort() : view.srcPort();
        int clientPort = clientToServer ? view.srcPort() : view.dstPort();
        byte[] b = view.array();
        System.arraycopy(b, server, key, 1, a);
        key[1 + a] = (byte) (serverPort >>> 8);
        key[2 + a] = (byte) serverPort;
        System.arraycopy(b, client, key, 3 + a, a);
        key[3 + 2 * a] = (byte) (clientPort >>> 8);
        key[4 + 2 * a] = (byte) clientPort;
        return key;
    }

    /**
     * True when {@code view}'s packet belongs to this flow ({@link #of} would return an equal key), checked
     * without building a key: a record's packets share one flow, so its readers look a key up once per record.
     */
    public boolean matches(PacketView view, boolean clientToServer) {
        int a = view.addressLength();
        if (bytes.length != 1 + 2 * (a + 2) || bytes[0] != (byte) view.ipVersion()) {
            return false;
        }
        int server = clientToServer ? view.dstAddressOffset() : view.srcAddressOffset();
        int client = clientToServer ? view.srcAddressOffset() : view.dstAddressOffset();
        int serverPort = clientToServer ? view.dstPort() : view.srcPort();
        int clientPort = clientToServer ? view.srcPort() : view.dstPort();
        byte[] b = view.array();
        return Arrays.equals(b, server, server + a, bytes, 1, 1 + a)
                && bytes[1 + a] == (byte) (serverPort >>> 8) && bytes[2 + a] == (byte) serverPort
                && Arrays.equals(b, client, client + a, bytes, 3 + a, 3 + 2 * a)
                && bytes[3 + 2 * a] == (byte) (clientPort >>> 8) && bytes[4 + 2 * a] == (byte) clientPort;
    }

    /** The flow key of the packet in {@code view}, whose sender is the client when {@code clientToServer}. */
    public static FlowKey of(PacketView view, boolean clientToServer) {
        return new FlowKey(keyBytes(view, clientToServer));
    }

    /** Reads key bytes; throws {@link IllegalArgumentException} when they are not a flow key. */
    public static FlowKey parse(byte[] key) {
        if (key == null || key.length == 0) {
            throw new IllegalArgumentException("empty flow key");
        }
        int expected = key[0] == 4 ? 13 : key[0] == 6 ? 37 : -1;
        if (key.length != expected) {
            throw new IllegalArgumentException("flow key of " + key.length + " bytes for IP version " + key[0]);
        }
        return new FlowKey(key.clone());
    }

    /** Builds a key from endpoints (both IPv4 or both IPv6). */
    public static FlowKey of(InetAddress server, int serverPort, InetAddress client, int clientPort) {
        byte[] s = server.getAddress();
        byte[] c = client.getAddress();
        if (s.length != c.length) {
            throw new IllegalArgumentException("server and client addresses are of different IP versions");
        }
        int a = s.length;
        byte[] key = new byte[1 + 2 * (a + 2)];
        key[0] = (byte) (a == 4 ? 4 : 6);
        System.arraycopy(s, 0, key, 1, a);
        key[1 + a] = (byte) (serverPort >>> 8);
        key[2 + a] = (byte) serverPort;
        System.arraycopy(c, 0, key, 3 + a, a);
        key[3 + 2 * a] = (byte) (clientPort >>> 8);
        key[4 + 2 * a] = (byte) clientPort;
        return new FlowKey(key);
    }

    private int addressLength() {
        return bytes[0] == 4 ? 4 : 16;
    }

    public int ipVersion() {
        return bytes[0];
    }

    public InetAddress serverAddress() {
        return address(1);
    }

    public int serverPort() {
        int a = addressLength();
        return ((bytes[1 + a] & 0xFF) << 8) | (bytes[2 + a] & 0xFF);
    }

    public InetAddress clientAddress() {
        return address(3 + addressLength());
    }

    public int clientPort() {
        int a = addressLength();
        return ((bytes[3 + 2 * a] & 0xFF) << 8) | (bytes[4 + 2 * a] & 0xFF);
    }

    private InetAddress address(int offset) {
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(bytes, offset, offset + addressLength()));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("address of a valid length was refused", e);
        }
    }

    /** A copy of the key bytes, as they travel on the bus. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowKey && Arrays.equals(bytes, ((FlowKey) o).bytes);
    }

    @Override
    public int hashCode() {
        return hash(bytes);
    }

    /**
     * The hash of key bytes for every table of flows. Flows behind one client address (a load balancer, a load
     * generator) differ in the client port alone, and {@link Arrays#hashCode} folds a port's two bytes into 31 x
     * high + low, about 8,000 values: ports 225 apart collide. FNV-1a keeps each byte apart, and a final mix
     * spreads them over the bits a table's mask keeps.
     */
    public static int hash(byte[] key) {
        return hash(key, key.length);
    }

    /** {@link #hash(byte[])} of the key in {@code key[0, length)}. */
    public static int hash(byte[] key, int length) {
        int h = 0x811C9DC5;
        for (int i = 0; i < length; i++) {
            h = (h ^ (key[i] & 0xFF)) * 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
    }

    /** {@code client -> server}, e.g. {@code 10.0.0.2:51000 -> 10.0.0.1:80}. */
    @Override
    public String toString() {
        return endpoint(clientAddress(), clientPort()) + " -> " + endpoint(serverAddress(), serverPort());
    }

    private static String endpoint(InetAddress a, int port) {
        String host = a.getHostAddress();
        return (a.getAddress().length == 16 ? "[" + host + "]" : host) + ":" + port;
    }
}
