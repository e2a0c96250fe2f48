package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.redact.PayloadRedactor;
import dev.trafficbus.redact.RedactionRules;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Writes what a subscription keeps to its topic: a record whose packets are all kept and unchanged goes out as
 * the very input value and headers (no copy, no re-encode); otherwise a new value is built from the kept
 * packets, masked when the subscription redacts. An amplifying subscription writes one record per copy, each
 * with a {@code tb.copy} header; one that does not amplify adds no header (absent means copy 0).
 */
final class SubscriptionOutput {
    static final String SINK = "subscription-topics";

    private final ProcessorContext<byte[], RoutedValue> context;
    private final CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();
    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final PacketView view = new PacketView();

    // One redactor per rule set (they hold matchers, so not shared between stream threads); subscriptions change
    // while running, so the map is dropped when it grows past what the live definitions need.
    private final Map<RedactionRules, PayloadRedactor> redactors = new IdentityHashMap<>();
    private static final int REDACTORS_LIMIT = 256;

    SubscriptionOutput(ProcessorContext<byte[], RoutedValue> context) {
        this.context = context;
    }

    /**
     * Forwards packets {@code selected[0, n)} (indexes in capture order) of {@code packets}; all of them when
     * {@code n} is the record's packet count. {@code timestamp} is the record's, used when the first packet is kept.
     */
    void emit(ActiveSubscription sub, byte[] key, long timestamp, Headers headers, RecordPackets packets,
              int[] selected, int n) {
        if (n == 0) {
            return;
        }
        if (n == packets.count()) {
            emitValue(sub, key, timestamp, headers, packets.value(), n, false);
            return;
        }
        byte[] value = packets.value();
        for (int j = 0; j < n; j++) {
            int i = selected[j];
            builder.add(value, packets.start(i), packets.length(i));
        }
        long ts = selected[0] == 0 ? timestamp : packets.micros(selected[0]) / 1000;
        emitValue(sub, key, ts, headers, builder.build(), n, true);
    }

    /**
     * Forwards a whole value of {@code packetCount} packets; {@code owned} says the array is this call's to
     * change (a freshly built value), else it is shared and redaction works on a copy.
     */
    void emitValue(ActiveSubscription sub, byte[] key, long timestamp, Headers headers, byte[] value,
                   int packetCount, boolean owned) {
        byte[] out = value;
        RedactionRules redaction = sub.rules.redaction();
        if (!redaction.isEmpty()) {
            out = redact(redactor(redaction), owned ? value : value.clone(), sub.counters);
            if (out == null) {
                out = value; // nothing matched: the input bytes go out unchanged
            }
        }
        int copies = sub.rules.amplify();
        RoutedValue routed = new RoutedValue(sub.topic, out);
        if (copies == 1) {
            context.forward(new Record<>(key, routed, timestamp, headers), SINK);
        } else {
            Header[] in = headers.toArray();
            for (int c = 0; c < copies; c++) {
                // A fresh Headers per copy: the producer makes each record's headers read-only once sent.
                Header[] all = Arrays.copyOf(in, in.length + 1);
                all[in.length] = CopyIndex.header(c);
                context.forward(new Record<>(key, routed, timestamp, new RecordHeaders(all)), SINK);
            }
        }
        sub.counters.recordsOut.add(copies);
        sub.counters.packetsOut.add((long) packetCount * copies);
    }

    private PayloadRedactor redactor(RedactionRules rules) {
        PayloadRedactor r = redactors.get(rules);
        if (r == null) {
            if (redactors.size() >= REDACTORS_LIMIT) {
                redactors.clear();
            }
            r = new PayloadRedactor(rules);
            redactors.put(rules, r);
        }
        return r;
    }

    /** Masks every TCP packet of {@code value} in place; null when nothing was masked. */
    private byte[] redact(PayloadRedactor redaction, byte[] value, SubscriptionCounters counters) {
        int masked = 0;
        reader.read(value);
        do {
            if (view.wrap(reader.packetArray(), reader.packetOffset(), reader.packetLength(),
                    Math.max(reader.originalLength(), reader.packetLength())) == PacketStatus.TCP) {
                masked += redaction.mask(value, view.tcpOffset(), view.payloadOffset(), view.payloadLength());
            }
        } while (reader.advance());
        counters.fieldsRedacted.add(masked);
        return masked == 0 ? null : value;
    }
}
