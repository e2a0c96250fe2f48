package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.subscription.http.FirstRequest;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Applies every subscription of a capture topic to each packet of each record (a record holds one or more
 * packets of one flow) and forwards what each keeps to its topic. Decisions are per session: rules that need no
 * memory (ports, networks, no sampling) are evaluated on the flow key; the others are taken once per session and
 * kept in the session store, and a session waiting for its first HTTP request has its packets held in the held
 * store until the decision. A client SYN with a new initial sequence number starts a new session, also in the
 * middle of a record.
 */
final class SubscriptionProcessor implements Processor<byte[], byte[], byte[], RoutedValue> {
    static final String SESSION_STORE = "tb-session-state";
    static final String HELD_STORE = "tb-held-packets";
    static final String DEADLETTER_SINK = "deadletter";
    /** A decided session's state is rewritten at most this often, just to keep it from idle expiry. */
    private static final long TOUCH_EVERY_MS = 30_000;

    private final SubscriptionRegistry registry;
    private final ProcessorCounters counters;
    private final ProcessorSettings settings;
    private final RecordPackets packets = new RecordPackets();
    private final CapturedPacketCodec.Reader heldReader = new CapturedPacketCodec.Reader();
    private final CapturedPacketCodec.Builder builder = new CapturedPacketCodec.Builder();
    private final PacketView heldView = new PacketView();
    private final Map<String, byte[]> topicBytes = new HashMap<>();
    /** Indexes of the record's whole TCP packets. */
    private int[] valid = new int[8];
    /** Per position in the subscription array: packets of the current session segment it keeps. */
    private int[][] kept = new int[0][];
    private int[] keptCount = new int[0];
    /** Packets of the current session segment held for a pending HTTP decision. */
    private int[] heldIndexes = new int[8];
    private int heldCount;
    private ProcessorContext<byte[], RoutedValue> context;
    private SubscriptionOutput output;
    private KeyValueStore<Bytes, byte[]> sessions;
    private KeyValueStore<Bytes, byte[]> held;
    private long lastFullSweep;

    SubscriptionProcessor(SubscriptionRegistry registry, ProcessorCounters counters, ProcessorSettings settings) {
        this.registry = registry;
        this.counters = counters;
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<byte[], RoutedValue> context) {
        this.context = context;
        this.output = new SubscriptionOutput(context);
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
            deadLetter(record, record.value(), "bad-flow-key", -1);
            return;
        }
        try {
            packets.load(record.value());
        } catch (IllegalArgumentException e) {
            deadLetter(record, record.value(), "undecodable", -1);
            return;
        }
        int n = packets.tcpCount();
        if (n < packets.count()) {
            deadLetterPackets(record);
            if (n == 0) {
                return;
            }
        }
        ActiveSubscription[] subs = registry.forTopic(topic);
        if (subs.length == 0) {
            return;
        }
        if (valid.length < n) {
            valid = new int[Math.max(n, valid.length * 2)];
        }
        int syns = 0;
        for (int i = 0, j = 0; i < packets.count(); i++) {
            if (packets.tcp(i)) {
                valid[j++] = i;
                if (packets.clientSyn(i)) {
                    syns++;
                }
            }
        }
        boolean anyStateful = false;
        for (ActiveSubscription sub : subs) {
            sub.counters.packetsIn.add(n);
            if (sub.stateful) {
                anyStateful = true;
                continue;
            }
            // Port and network rules depend on the flow key only, so every packet of a session agrees.
            String reason = sub.rules.filterReason(key);
            for (int s = 0; s < syns; s++) {
                sub.counters.sessionsIn.increment();
                if (reason == null) {
                    sub.counters.sessionsKept.increment();
                } else {
                    sub.counters.dropped(reason);
                }
            }
            if (reason == null) {
                output.emit(sub, key, record.timestamp(), record.headers(), packets, valid, n);
            }
        }
        if (anyStateful) {
            processStateful(record, storeKey(topic, key), key, subs, n);
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

    /**
     * The stateful subscriptions on the record's {@code n} valid packets: each packet gets its session's decision
     * per subscription; a segment of one session is written out (kept packets) and held (pending ones) together,
     * at a session change inside the record and at its end. The session state is written once per record.
     */
    private void processStateful(Record<byte[], byte[]> record, Bytes k, byte[] key, ActiveSubscription[] subs,
                                 int n) {
        byte[] raw = sessions.get(k);
        SessionState st = raw == null ? null : SessionState.decode(raw);
        long now = context.currentSystemTimeMs();
        boolean dirty = false;
        prepareSegments(subs.length, n);
        for (int j = 0; j < n; j++) {
            int i = valid[j];
            boolean clientSyn = packets.clientSyn(i);
            if (st == null || clientSyn && st.startSeq != packets.seq(i)) {
                if (st != null) {
                    flushSegment(record, k, key, subs, st);
                    if (st.anyPending()) {
                        expire(st, k); // the 4-tuple is reused before the old session decided
                    }
                }
                st = new SessionState(clientSyn ? packets.seq(i) : -1, now);
                dirty = true;
            }
            boolean hold = false;
            for (int s = 0; s < subs.length; s++) {
                ActiveSubscription sub = subs[s];
                if (!sub.stateful) {
                    continue;
                }
                int x = st.indexOf(sub.name);
                if (x < 0) {
                    x = st.add(sub.name, start(sub, key, st.startSeq, packets.micros(i)));
                    dirty = true;
                }
                byte d = st.decision(x);
                if (d == SessionState.KEEP) {
                    kept[s][keptCount[s]++] = i;
                } else if (d == SessionState.PENDING) {
                    hold = true;
                }
            }
            if (hold) {
                heldIndexes[heldCount++] = i;
            }
            if (packets.finOrRst(i) && !st.closing) {
                st.closing = true;
                dirty = true;
            }
        }
        if (flushSegment(record, k, key, subs, st)) {
            dirty = true;
        }
        if (dirty || now - st.touchedMs >= TOUCH_EVERY_MS) {
            st.touchedMs = now;
            sessions.put(k, st.encode());
        }
    }

    private void prepareSegments(int subCount, int n) {
        if (kept.length < subCount) {
            kept = new int[subCount][];
            keptCount = new int[subCount];
        }
        for (int s = 0; s < subCount; s++) {
            if (kept[s] == null || kept[s].length < n) {
                kept[s] = new int[Math.max(n, 8)];
            }
            keptCount[s] = 0;
        }
        if (heldIndexes.length < n) {
            heldIndexes = new int[n];
        }
        heldCount = 0;
    }

    /**
     * Ends a segment of one session inside the record: its held packets join the session's held record and the
     * HTTP decision is tried (releasing them on a keep), then each subscription's kept packets go out. True when
     * the session state may have changed.
     */
    private boolean flushSegment(Record<byte[], byte[]> record, Bytes k, byte[] key, ActiveSubscription[] subs,
                                 SessionState st) {
        boolean changed = false;
        if (heldCount > 0) {
            byte[] value;
            if (heldCount == packets.count()) {
                value = packets.value();
            } else {
                for (int j = 0; j < heldCount; j++) {
                    builder.add(packets.value(), packets.start(heldIndexes[j]), packets.length(heldIndexes[j]));
                }
                value = builder.build();
            }
            long ts = heldIndexes[0] == 0 ? record.timestamp() : packets.micros(heldIndexes[0]) / 1000;
            byte[] h = HeldPackets.append(held.get(k), ts, record.headers(), value);
            decideHeld(st, k, key, h, packets.micros(heldIndexes[heldCount - 1]));
            heldCount = 0;
            changed = true;
        }
        for (int s = 0; s < subs.length; s++) {
            if (keptCount[s] > 0) {
                output.emit(subs[s], key, record.timestamp(), record.headers(), packets, kept[s], keptCount[s]);
                keptCount[s] = 0;
            }
        }
        return changed;
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
        int[] packetCounts = new int[list.size()];
        FirstRequest search = new FirstRequest(settings.maxHeadBytes());
        for (int e = 0; e < list.size(); e++) {
            heldReader.read(list.get(e).value());
            packetCounts[e] = heldReader.packetCount();
            do {
                if (heldReader.clientToServer()
                        && heldView.wrap(heldReader.packetArray(), heldReader.packetOffset(), heldReader.packetLength(),
                        Math.max(heldReader.originalLength(), heldReader.packetLength())) == PacketStatus.TCP) {
                    search.add(heldView.seq(), heldView.array(), heldView.payloadOffset(), heldView.payloadLength());
                }
            } while (heldReader.advance());
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
                for (int e = 0; e < list.size(); e++) {
                    HeldPackets.Held h = list.get(e);
                    output.emitValue(sub, key, h.timestamp(), h.headers(), h.value(), packetCounts[e], false);
                }
            }
        }
        held.delete(k);
    }

    /**
     * Dead-letters the packets of the record that are not whole TCP segments: the record itself, unchanged, when
     * it holds only that packet; else each such packet alone in a record naming its index (the rest is processed).
     */
    private void deadLetterPackets(Record<byte[], byte[]> record) {
        for (int i = 0; i < packets.count(); i++) {
            if (packets.tcp(i)) {
                continue;
            }
            String reason = "packet-" + packets.status(i).name().toLowerCase(Locale.ROOT).replace('_', '-');
            if (packets.count() == 1) {
                deadLetter(record, record.value(), reason, -1);
            } else {
                byte[] one = builder.add(packets.value(), packets.start(i), packets.length(i)).build();
                deadLetter(record, one, reason, i);
            }
        }
    }

    private void deadLetter(Record<byte[], byte[]> record, byte[] value, String reason, int packetIndex) {
        counters.deadLetter(reason);
        RecordHeaders h = new RecordHeaders(record.headers().toArray());
        h.add(DeadLetterHeaders.DEADLETTER_REASON, reason.getBytes(StandardCharsets.UTF_8));
        context.recordMetadata().ifPresent(m -> {
            h.add(DeadLetterHeaders.DEADLETTER_TOPIC, m.topic().getBytes(StandardCharsets.UTF_8));
            h.add(DeadLetterHeaders.DEADLETTER_PARTITION, Integer.toString(m.partition()).getBytes(StandardCharsets.UTF_8));
            h.add(DeadLetterHeaders.DEADLETTER_OFFSET, Long.toString(m.offset()).getBytes(StandardCharsets.UTF_8));
        });
        if (packetIndex >= 0) {
            h.add(DeadLetterHeaders.DEADLETTER_PACKET, Integer.toString(packetIndex).getBytes(StandardCharsets.UTF_8));
        }
        context.forward(new Record<>(record.key(), new RoutedValue(Topics.DEADLETTER, value),
                record.timestamp(), h), DEADLETTER_SINK);
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
