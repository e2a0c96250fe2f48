package dev.trafficbus.subscription;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.avro.Direction;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.subscription.http.FirstRequest;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Applies every subscription of a capture topic to each packet and forwards what each keeps to its topic.
 * Decisions are per session: rules that need no memory (ports, networks, no sampling) are evaluated on the
 * flow key of each packet; the others are taken once per session and kept in the session store, and a session
 * waiting for its first HTTP request has its packets held in the held store until the decision.
 */
final class SubscriptionProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    static final String SESSION_STORE = "tb-session-state";
    static final String HELD_STORE = "tb-held-packets";
    static final String SUBSCRIPTION_SINK = "subscription-topics";
    static final String DEADLETTER_SINK = "deadletter";
    /** A decided session's state is rewritten at most this often, just to keep it from idle expiry. */
    private static final long TOUCH_EVERY_MS = 30_000;

    private final SubscriptionRegistry registry;
    private final ProcessorCounters counters;
    private final ProcessorSettings settings;
    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final CapturedPacketCodec.Reader otherReader = new CapturedPacketCodec.Reader();
    private final PacketView view = new PacketView();
    private final PacketView otherView = new PacketView();
    private final int[] masked = new int[1];
    private final Map<String, byte[]> topicBytes = new HashMap<>();
    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<Bytes, byte[]> sessions;
    private KeyValueStore<Bytes, byte[]> held;
    private long lastFullSweep;

    SubscriptionProcessor(SubscriptionRegistry registry, ProcessorCounters counters, ProcessorSettings settings) {
        this.registry = registry;
        this.counters = counters;
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
        this.sessions = context.getStateStore(SESSION_STORE);
        this.held = context.getStateStore(HELD_STORE);
        lastFullSweep = context.currentSystemTimeMs();
        context.schedule(settings.sweepInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        Optional<RecordMetadata> meta = context.recordMetadata();
        String topic = meta.isPresent() ? meta.get().topic() : "";
        counters.recordIn(topic);
        byte[] key = record.key();
        if (!FlowKeys.valid(key)) {
            deadLetter(record, "bad-flow-key");
            return;
        }
        try {
            reader.read(record.value());
        } catch (IllegalArgumentException e) {
            deadLetter(record, "undecodable");
            return;
        }
        PacketStatus status = view.wrap(reader.packetArray(), reader.packetOffset(), reader.packetLength(),
                Math.max(reader.originalLength(), reader.packetLength()));
        if (status != PacketStatus.TCP) {
            deadLetter(record, "packet-" + status.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            return;
        }
        ActiveSubscription[] subs = registry.forTopic(topic);
        if (subs.length == 0) {
            return;
        }
        boolean clientSyn = reader.direction() == Direction.CLIENT_TO_SERVER && view.hasFlag(PacketView.SYN)
                && !view.hasFlag(PacketView.ACK);
        boolean anyStateful = false;
        for (ActiveSubscription sub : subs) {
            sub.counters.packetsIn.increment();
            if (sub.stateful) {
                anyStateful = true;
                continue;
            }
            // Port and network rules depend on the flow key only, so every packet of a session agrees.
            String reason = sub.rules.filterReason(key);
            if (clientSyn) {
                sub.counters.sessionsIn.increment();
                if (reason == null) {
                    sub.counters.sessionsKept.increment();
                } else {
                    sub.counters.dropped(reason);
                }
            }
            if (reason == null) {
                emit(sub, key, record.timestamp(), record.headers(), record.value());
            }
        }
        if (anyStateful) {
            processStateful(record, storeKey(topic, key), key, subs, clientSyn);
        }
    }

    /**
     * Store key of a session: capture topic, then flow key. Two sources may see the same 4-tuple (the same
     * capture imported twice, two taps on one link), and their sessions must not share decisions.
     */
    private Bytes storeKey(String topic, byte[] key) {
        byte[] t = topicBytes.get(topic);
        if (t == null) {
            t = topic.getBytes(StandardCharsets.UTF_8);
            topicBytes.put(topic, t);
        }
        byte[] k = new byte[1 + t.length + key.length];
        k[0] = (byte) t.length;
        System.arraycopy(t, 0, k, 1, t.length);
        System.arraycopy(key, 0, k, 1 + t.length, key.length);
        return Bytes.wrap(k);
    }

    private void processStateful(Record<byte[], byte[]> record, Bytes k, byte[] key, ActiveSubscription[] subs,
                                 boolean clientSyn) {
        byte[] raw = sessions.get(k);
        SessionState st = raw == null ? null : SessionState.decode(raw);
        long now = context.currentSystemTimeMs();
        boolean dirty = false;
        if (st == null || clientSyn && st.startSeq != view.seq()) {
            if (st != null && st.anyPending()) {
                expire(st, k); // the 4-tuple is reused before the old session decided
            }
            st = new SessionState(clientSyn ? view.seq() : -1, now);
            dirty = true;
        }
        long micros = reader.timestampMicros();
        boolean hold = false;
        for (ActiveSubscription sub : subs) {
            if (!sub.stateful) {
                continue;
            }
            int i = st.indexOf(sub.name);
            if (i < 0) {
                i = st.add(sub.name, start(sub, key, st.startSeq, micros));
                dirty = true;
            }
            byte d = st.decision(i);
            if (d == SessionState.KEEP) {
                emit(sub, key, record.timestamp(), record.headers(), record.value());
            } else if (d == SessionState.PENDING) {
                hold = true;
            }
        }
        if ((view.hasFlag(PacketView.FIN) || view.hasFlag(PacketView.RST)) && !st.closing) {
            st.closing = true;
            dirty = true;
        }
        if (hold) {
            byte[] h = HeldPackets.append(held.get(k), record.timestamp(), record.headers(), record.value());
            decideHeld(st, k, key, h, micros);
            dirty = true;
        } else if (now - st.touchedMs >= TOUCH_EVERY_MS) {
            dirty = true;
        }
        if (dirty) {
            st.touchedMs = now;
            sessions.put(k, st.encode());
        }
    }

    /** The first decision of a subscription on a session: dropped by a rule, pending on HTTP, or kept. */
    private byte start(ActiveSubscription sub, byte[] key, long startSeq, long micros) {
        sub.counters.sessionsIn.increment();
        String reason = sub.rules.filterReason(key);
        if (reason != null) {
            sub.counters.dropped(reason);
            return SessionState.DROP;
        }
        if (!SessionSampler.keep(sub.name, key, startSeq, sub.rules.samplePercent())) {
            sub.counters.dropped("sampled-out");
            return SessionState.DROP;
        }
        if (sub.rules.http() != null) {
            return SessionState.PENDING;
        }
        return admit(sub, micros);
    }

    /** Last gate of a session that passed the rules: the rate cap. */
    private static byte admit(ActiveSubscription sub, long micros) {
        if (sub.rateLimiter != null && !sub.rateLimiter.tryAcquire(micros)) {
            sub.counters.dropped("rate-limited");
            return SessionState.DROP;
        }
        sub.counters.sessionsKept.increment();
        return SessionState.KEEP;
    }

    /** Looks for the first request in the held packets; decides the pending subscriptions when it can. */
    private void decideHeld(SessionState st, Bytes k, byte[] key, byte[] heldBytes, long micros) {
        List<HeldPackets.Held> list = HeldPackets.decode(heldBytes);
        FirstRequest search = new FirstRequest(settings.maxHeadBytes());
        for (HeldPackets.Held h : list) {
            otherReader.read(h.value());
            if (otherReader.direction() == Direction.CLIENT_TO_SERVER
                    && otherView.wrap(otherReader.packetArray(), otherReader.packetOffset(), otherReader.packetLength(),
                    Math.max(otherReader.originalLength(), otherReader.packetLength())) == PacketStatus.TCP) {
                search.add(otherView.seq(), otherView.array(), otherView.payloadOffset(), otherView.payloadLength());
            }
        }
        FirstRequest.Outcome outcome = search.search(st.startSeq);
        String common;
        switch (outcome) {
            case FOUND -> common = null;
            case NOT_HTTP -> common = "http-not-http";
            case TOO_LARGE -> common = "http-head-too-large";
            default -> {
                if (st.closing) {
                    common = "http-no-request";
                } else if (heldBytes.length > settings.maxHeldBytes()) {
                    common = "http-held-limit";
                } else {
                    held.put(k, heldBytes);
                    return;
                }
            }
        }
        for (int i = 0; i < st.size(); i++) {
            if (st.decision(i) != SessionState.PENDING) {
                continue;
            }
            ActiveSubscription sub = registry.get(st.name(i));
            if (sub == null || sub.rules.http() == null) {
                st.set(i, SessionState.DROP); // removed or replaced while the session was held
                continue;
            }
            String reason = common != null ? common : sub.rules.http().rejectReason(search.head());
            byte d;
            if (reason != null) {
                sub.counters.dropped(reason);
                d = SessionState.DROP;
            } else {
                d = admit(sub, micros);
            }
            st.set(i, d);
            if (d == SessionState.KEEP) {
                for (HeldPackets.Held h : list) {
                    emit(sub, key, h.timestamp(), h.headers(), h.value());
                }
            }
        }
        held.delete(k);
    }

    /** Forwards one packet to a subscription's topic once per copy, masked when the subscription redacts. */
    private void emit(ActiveSubscription sub, byte[] key, long timestamp, Headers headers, byte[] value) {
        byte[] out = value;
        if (!sub.rules.redaction().isEmpty()) {
            otherReader.read(value);
            if (otherView.wrap(otherReader.packetArray(), otherReader.packetOffset(), otherReader.packetLength(),
                    Math.max(otherReader.originalLength(), otherReader.packetLength())) == PacketStatus.TCP) {
                out = sub.rules.redaction().apply(value, otherView.tcpOffset(), otherView.payloadOffset(),
                        otherView.payloadLength(), masked);
                sub.counters.fieldsRedacted.add(masked[0]);
            }
        }
        int copies = sub.rules.amplify();
        Header[] in = headers.toArray();
        for (int c = 0; c < copies; c++) {
            // A fresh Headers per record: the producer makes each record's headers read-only once sent.
            Header[] all = Arrays.copyOf(in, in.length + 2);
            all[in.length] = sub.header;
            all[in.length + 1] = CopyIndex.header(c);
            context.forward(new Record<>(key, out, timestamp, new RecordHeaders(all)), SUBSCRIPTION_SINK);
        }
        sub.counters.recordsOut.add(copies);
    }

    private void deadLetter(Record<byte[], byte[]> record, String reason) {
        counters.deadLetter(reason);
        RecordHeaders h = new RecordHeaders(record.headers().toArray());
        h.add(ProcessorTopics.DEADLETTER_REASON, reason.getBytes(StandardCharsets.UTF_8));
        context.recordMetadata().ifPresent(m -> {
            h.add(ProcessorTopics.DEADLETTER_TOPIC, m.topic().getBytes(StandardCharsets.UTF_8));
            h.add(ProcessorTopics.DEADLETTER_PARTITION, Integer.toString(m.partition()).getBytes(StandardCharsets.UTF_8));
            h.add(ProcessorTopics.DEADLETTER_OFFSET, Long.toString(m.offset()).getBytes(StandardCharsets.UTF_8));
        });
        context.forward(new Record<>(record.key(), record.value(), record.timestamp(), h), DEADLETTER_SINK);
    }

    /** Counts the pending subscriptions of a session as expired and forgets its held packets. */
    private void expire(SessionState st, Bytes k) {
        for (int i = 0; i < st.size(); i++) {
            if (st.decision(i) == SessionState.PENDING) {
                ActiveSubscription sub = registry.get(st.name(i));
                if (sub != null) {
                    sub.counters.dropped("expired");
                }
                st.set(i, SessionState.DROP);
            }
        }
        held.delete(k);
    }

    /**
     * Expires held sessions idle past heldIdle (the held store is small: only undecided sessions) and, less
     * often, forgets decided sessions idle past sessionIdle (a scan of the whole session store).
     */
    private void sweep(long now) {
        long heldIdle = settings.heldIdle().toMillis();
        List<Bytes> heldKeys = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = held.all()) {
            while (it.hasNext()) {
                heldKeys.add(it.next().key);
            }
        }
        for (Bytes k : heldKeys) {
            byte[] raw = sessions.get(k);
            if (raw == null) {
                held.delete(k);
                continue;
            }
            SessionState st = SessionState.decode(raw);
            if (now - st.touchedMs >= heldIdle && st.anyPending()) {
                expire(st, k);
                sessions.put(k, st.encode());
            }
        }
        long sessionIdle = settings.sessionIdle().toMillis();
        if (now - lastFullSweep < Math.max(sessionIdle / 10, settings.sweepInterval().toMillis())) {
            return;
        }
        lastFullSweep = now;
        List<Bytes> forgotten = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = sessions.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                if (now - SessionState.decode(kv.value).touchedMs >= sessionIdle) {
                    forgotten.add(kv.key);
                }
            }
        }
        for (Bytes k : forgotten) {
            byte[] raw = sessions.get(k);
            SessionState st = SessionState.decode(raw);
            if (st.anyPending()) {
                expire(st, k);
            }
            sessions.delete(k);
        }
    }
}
