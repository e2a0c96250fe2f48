#!/usr/bin/env bash
# P3: records/s and packets/s through `trafficbus process` with one pass-through subscription, beside a plain
# consume->produce loop written with kafka-clients (same broker, same input topic, same client settings,
# same output partitions). Also measured: 10 pass-through subscriptions on the same input.
# Goal: process (1 subscription) >= 0.7 x the plain loop (records in per second, median of P3_RUNS runs).
# The input topic is written by the real forwarder (`forward --pcap`), so its records hold several packets of a
# flow as a live forwarder batches them (P3_FORWARD_ARGS="--batch-max-packets 1" gives one packet per record).
# A pass-through subscription forwards every input record unchanged, so packets/s = records/s x packets/record.
#
# Both sides are timed the same way from outside: a watcher polls the end offsets of the output topic(s)
# every 100 ms and reports records/s between the first and the last output record (start-up excluded).
#
#   bench/p3-process.sh            # uses bench/out/p1/load.pcap, running bench/p1-forward.sh once to make it if missing
# Environment: P3_PACKETS (1500000, only when P1's capture has to be made), P3_RUNS (3), P3_SUBS (10),
#   P3_TEN_RUNS (1: the many-subscription case writes P3_SUBS times the records), P3_THREADS (1: process --threads,
#   and as many copy loops in the plain reference), P3_PROCESS_PROPS (extra K=V for the processor only: Streams-only
#   settings that have no counterpart in the plain loop), P3_PROCESS_JAVA_OPTS (JVM options of the processor only,
#   e.g. a JFR recording), P3_FORWARD_ARGS (extra options of `forward --pcap`, e.g. --batch-window / --batch-max-packets),
#   P3_IMPORTS (4: how many times the capture is imported into the input topic)
set -euo pipefail

BENCH=p3
source "$(dirname "$0")/harness.sh"
PACKETS="${P3_PACKETS:-1500000}"
RUNS="${P3_RUNS:-3}"
SUBS="${P3_SUBS:-10}"
TEN_RUNS="${P3_TEN_RUNS:-1}"
THREADS="${P3_THREADS:-1}"
IMPORTS="${P3_IMPORTS:-4}"
CLIENT_PROPS=(linger.ms=20 batch.size=262144 compression.type=lz4 max.poll.records=2000)

# --- build -------------------------------------------------------------------------------------------
cd "$ROOT"
log "building processor and capture-forwarder"
flock /tmp/tb-build.lock mvn -B -q -o -pl processor,capture-forwarder package -DskipTests
if ! ls standalone/target/lib/kafka-tools-*.jar >/dev/null 2>&1 || ! ls standalone/target/lib/kafka_2.13-*.jar >/dev/null 2>&1; then
  log "building standalone (for the broker and kafka-tools jars)"
  flock /tmp/tb-build.lock mvn -B -q -o -pl standalone -am package -DskipTests
fi
KAFKA_CP="standalone/target/lib/*"
TOOL_CP="processor/target/lib/*"

# --- the capture: P1's (real HTTP load on loopback recorded by tcpdump); P1 makes it when it is missing ----------
PCAP="$ROOT/bench/out/p1/load.pcap"
if [ ! -s "$PCAP" ] || [ ! -s "$ROOT/bench/out/p1/load.port" ]; then
  log "no P1 capture yet: running bench/p1-forward.sh once to make it"
  P1_RUNS=1 P1_PACKETS="$PACKETS" "$ROOT/bench/p1-forward.sh" >&2
fi
HTTP_PORT="$(cat "$ROOT/bench/out/p1/load.port")"
log "capture: $PCAP (service port $HTTP_PORT)"

# --- the plain loop and the output watcher (kafka-clients only) ----------------------------------------
cat > "$WORK/P3Tool.java" <<'EOF'
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicLong;

/**
 * copy BOOTSTRAP IN OUT N THREADS [k=v...]: plain consume->produce loop. watch BOOTSTRAP TARGET TIMEOUT_S TOPIC...:
 * records/s. count BOOTSTRAP TOPIC: "records packets" the topic holds.
 */
public class P3Tool {
    public static void main(String[] a) throws Exception {
        if (a[0].equals("copy")) copy(a); else if (a[0].equals("count")) count(a); else watch(a);
    }

    /** Reads the whole topic once and counts its records and the packets they hold. */
    static void count(String[] a) {
        Properties c = props(a[1], new String[0], 0);
        c.put("max.poll.records", "5000");
        long records = 0, packets = 0;
        dev.trafficbus.bus.CapturedPacketCodec.Reader reader = new dev.trafficbus.bus.CapturedPacketCodec.Reader();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (var pi : consumer.partitionsFor(a[2])) parts.add(new TopicPartition(a[2], pi.partition()));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) if (consumer.position(tp) < end.get(tp)) done = false;
                if (done) break;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    records++;
                    packets += reader.read(r.value()).packetCount();
                }
            }
        }
        System.out.println(records + " " + packets);
    }

    static Properties props(String bootstrap, String[] a, int from) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        for (int i = from; i < a.length; i++) { int eq = a[i].indexOf('='); p.put(a[i].substring(0, eq), a[i].substring(eq + 1)); }
        return p;
    }

    /** THREADS copy loops in one consumer group, each with its own producer (as each stream thread has). */
    static void copy(String[] a) throws InterruptedException {
        long n = Long.parseLong(a[4]);
        int threads = Integer.parseInt(a[5]);
        AtomicLong done = new AtomicLong();
        long deadline = System.nanoTime() + 600_000_000_000L;
        List<Thread> loops = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> copyLoop(a, n, done, deadline), "copy-" + t);
            th.start();
            loops.add(th);
        }
        for (Thread th : loops) th.join();
    }

    static void copyLoop(String[] a, long n, AtomicLong done, long deadline) {
        Properties c = props(a[1], a, 6);
        c.put("group.id", "p3-plain-" + a[3]); c.put("auto.offset.reset", "earliest"); c.put("enable.auto.commit", "true");
        Properties p = props(a[1], a, 6);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            consumer.subscribe(List.of(a[2]));
            while (done.get() < n && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    producer.send(new ProducerRecord<>(a[3], null, r.timestamp(), r.key(), r.value(), r.headers()));
                }
                done.addAndGet(records.count());
            }
            producer.flush();
        }
    }

    static void watch(String[] a) throws Exception {
        long target = Long.parseLong(a[2]);
        long timeout = Long.parseLong(a[3]) * 1_000_000_000L;
        List<String> topics = Arrays.asList(a).subList(4, a.length);
        Properties c = props(a[1], new String[0], 0);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            long t0 = System.nanoTime(), first = -1, last = -1, total = 0;
            List<TopicPartition> parts = new ArrayList<>();
            while (System.nanoTime() - t0 < timeout) {
                if (parts.isEmpty() || parts.size() < topics.size()) {
                    parts.clear();
                    Map<String, List<org.apache.kafka.common.PartitionInfo>> all = consumer.listTopics();
                    for (String t : topics) for (var pi : all.getOrDefault(t, List.of())) parts.add(new TopicPartition(t, pi.partition()));
                }
                total = 0;
                if (!parts.isEmpty()) for (long v : consumer.endOffsets(parts).values()) total += v;
                long now = System.nanoTime();
                if (total > 0 && first < 0) first = now;
                if (total >= target) { last = now; break; }
                Thread.sleep(100);
            }
            if (last < 0) { System.err.println("watch: only " + total + " of " + target + " records"); System.exit(1); }
            double secs = Math.max(0.1, (last - first) / 1e9);
            System.out.printf(Locale.ROOT, "%.0f %.2f%n", target / secs, secs);
        }
    }
}
EOF
tool() { java -Xmx512m -Dorg.slf4j.simpleLogger.log.org.apache.kafka=error -cp "$TOOL_CP" "$WORK/P3Tool.java" "$@"; }
create_topic() {
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$1" \
    --partitions 6 --replication-factor 1 > "$WORK/topic-$1.log" 2>&1 || { log "cannot create $1"; cat "$WORK/topic-$1.log" >&2; exit 1; }
}

# --- broker and input -------------------------------------------------------------------------------------
start_broker
# The capture is imported P3_IMPORTS times, so each side runs long enough that start-up and JIT warm-up (larger
# for Streams' code path than for a ten-line loop) weigh little: batching cut the record count about 4 times.
for _ in $(seq 1 "$IMPORTS"); do
  # shellcheck disable=SC2086
  line="$(bin/trafficbus forward --pcap "$PCAP" --port "$HTTP_PORT" --source p3 --bootstrap-servers "$BOOTSTRAP" \
    ${P3_FORWARD_ARGS:-} 2> "$WORK/forward.err")" || { log "forward failed"; cat "$WORK/forward.err" >&2; exit 1; }
  echo "$line" >&2
done
# Counted from the topic itself, whatever the forwarder's summary line says.
read -r RECORDS PACKETS_IN <<< "$(tool count "$BOOTSTRAP" tb.capture.p3)"
[ "${RECORDS:-0}" -gt 0 ] || { log "tb.capture.p3 is empty"; exit 1; }
PER_RECORD="$(awk -v p="$PACKETS_IN" -v r="$RECORDS" 'BEGIN {printf "%.2f", p / r}')"
log "input: $PACKETS_IN packets in $RECORDS records in tb.capture.p3 ($PER_RECORD packets/record)"
KPROPS=(); for kv in "${CLIENT_PROPS[@]}" ${P3_PROCESS_PROPS:-}; do KPROPS+=(--kafka-property "$kv"); done

# process_run NAME COUNT -> prints records-in/s; COUNT pass-through subscriptions NAME-1..NAME-COUNT
process_run() {
  local name=$1 count=$2 subs="$WORK/$1.yaml" topics=()
  : > "$subs"
  for j in $(seq 1 "$count"); do
    printf -- '- {name: %s-%d, sources: [p3]}\n' "$name" "$j" >> "$subs"; topics+=("tb.sub.$name-$j")
  done
  JAVA_OPTS="${P3_PROCESS_JAVA_OPTS:-${JAVA_OPTS:-}}" bin/trafficbus process --bootstrap-servers "$BOOTSTRAP" --subscriptions "$subs" --application-id "p3-$name" \
    --metrics-port -1 --threads "$THREADS" --state-dir "$WORK/state-$name" "${KPROPS[@]}" > "$WORK/process-$name.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  local result
  result="$(tool watch "$BOOTSTRAP" $((RECORDS * count)) 900 "${topics[@]}")" || { log "process $name did not finish"; tail -20 "$WORK/process-$name.log" >&2; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true
  for j in $(seq 1 "$count"); do bin/trafficbus unsubscribe --bootstrap-servers "$BOOTSTRAP" --name "$name-$j" > /dev/null; done
  local rate secs; read -r rate secs <<< "$result"
  log "process $name ($count subscriptions): $((RECORDS * count)) records out in $secs s"
  awk -v r="$rate" -v c="$count" 'BEGIN {printf "%.0f\n", r / c}'
}

# plain_run NAME -> prints records/s
plain_run() {
  create_topic "p3-$1"
  tool copy "$BOOTSTRAP" tb.capture.p3 "p3-$1" "$RECORDS" "$THREADS" "${CLIENT_PROPS[@]}" > "$WORK/plain-$1.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  local result
  result="$(tool watch "$BOOTSTRAP" "$RECORDS" 900 "p3-$1")" || { log "plain loop $1 did not finish"; exit 1; }
  wait "$pid" || true
  local rate secs; read -r rate secs <<< "$result"
  log "plain loop $1: $RECORDS records in $secs s"
  echo "$rate"
}

PLAIN=(); ONE=(); TEN=()
for i in $(seq 1 "$RUNS"); do
  PLAIN+=("$(plain_run "run$i")")
  ONE+=("$(process_run "one$i" 1)")
  if [ "$i" -le "$TEN_RUNS" ]; then TEN+=("$(process_run "ten$i" "$SUBS")"); fi
done

P="$(printf '%s\n' "${PLAIN[@]}" | median)"; O="$(printf '%s\n' "${ONE[@]}" | median)"
T="$(printf '%s\n' "${TEN[@]}" | median)"
pps() { awk -v r="$1" -v k="$PER_RECORD" 'BEGIN {printf "%.0f", r * k}'; }
echo "P3 plain consume->produce: median $(printf '%.0f' "$P") records/s = $(pps "$P") packets/s  (runs: ${PLAIN[*]})"
echo "P3 process, 1 subscription: median $(printf '%.0f' "$O") records in/s = $(pps "$O") packets in/s  (runs: ${ONE[*]})"
if [ "${#TEN[@]}" -gt 0 ]; then
  echo "P3 process, $SUBS subscriptions: median $(printf '%.0f' "$T") records in/s = $(pps "$T") packets in/s; out: $(awk -v t="$T" -v s="$SUBS" 'BEGIN {printf "%.0f", t * s}') records/s = $(pps "$(awk -v t="$T" -v s="$SUBS" 'BEGIN {print t * s}')") packets/s  (runs: ${TEN[*]})"
fi
echo "P3 input: $PACKETS_IN packets in $RECORDS records ($PER_RECORD packets/record; forward options: ${P3_FORWARD_ARGS:-defaults}); client settings: ${CLIENT_PROPS[*]}; process --threads $THREADS (plain loop: $THREADS copy loops); process-only: ${P3_PROCESS_PROPS:-none}; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v o="$O" -v p="$P" 'BEGIN { r = o / p; printf "P3 ratio process/plain: %.2f (goal >= 0.70) %s\n", r, (r >= 0.7 ? "OK" : "BELOW GOAL") }'
