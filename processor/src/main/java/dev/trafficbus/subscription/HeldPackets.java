package dev.trafficbus.subscription;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The packets of a session held while an HTTP rule waits for its first request head: one store value per flow
 * key, records appended in arrival order (timestamp, headers, value: the held packets of one input record), so
 * a release replays them in order.
 */
final class HeldPackets {
    private HeldPackets() {
    }

    /** One held record. */
    record Held(long timestamp, Headers headers, byte[] value) {
    }

    /** {@code existing} (may be null) with one more record appended. */
    static byte[] append(byte[] existing, long timestamp, Headers headers, byte[] value) {
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        int len = 8 + 4 + 4 + value.length;
        for (Header h : headers) {
            byte[] k = h.key().getBytes(StandardCharsets.UTF_8);
            keys.add(k);
            values.add(h.value());
            len += 2 + k.length + 4 + (h.value() == null ? 0 : h.value().length);
        }
        int old = existing == null ? 0 : existing.length;
        ByteBuffer b = ByteBuffer.allocate(old + len);
        if (existing != null) {
            b.put(existing);
        }
        b.putLong(timestamp).putInt(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            b.putShort((short) keys.get(i).length).put(keys.get(i));
            byte[] v = values.get(i);
            b.putInt(v == null ? -1 : v.length);
            if (v != null) {
                b.put(v);
            }
        }
        b.putInt(value.length).put(value);
        return b.array();
    }

    static List<Held> decode(byte[] bytes) {
        List<Held> out = new ArrayList<>();
        if (bytes == null) {
            return out;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            long ts = b.getLong();
            int n = b.getInt();
            RecordHeaders headers = new RecordHeaders();
            for (int i = 0; i < n; i++) {
                byte[] k = new byte[b.getShort()];
                b.get(k);
                int vl = b.getInt();
                byte[] v = null;
                if (vl >= 0) {
                    v = new byte[vl];
                    b.get(v);
                }
                headers.add(new String(k, StandardCharsets.UTF_8), v);
            }
            byte[] value = new byte[b.getInt()];
            b.get(value);
            out.add(new Held(ts, headers, value));
        }
        return out;
    }
}
