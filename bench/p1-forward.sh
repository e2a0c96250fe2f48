#!/usr/bin/env bash
# P1: how fast `forward --pcap` publishes a big capture, against Kafka's own ProducerPerformance sending
# records of the same count and average size as forward wrote (a record holds several packets of one
# connection, see --batch-window / --batch-max-packets) with the same producer settings to the same broker.
# Reports forward's packets/s and records/s; goal: forward records/s >= 1.0 x ProducerPerformance records/s
# (medians of P1_RUNS runs each). Packets/s over the reference's records/s shows what batching gains.
#
#   bench/p1-forward.sh            # makes bench/out/p1/load.pcap once (~1.5 M packets), then measures
# Environment: P1_PACKETS (1500000), P1_RUNS (3), P1_BATCH_SIZES ("": also time forward at these batch.size values),
#              P1_FORWARD_ARGS ("": extra forward options, e.g. "--batch-max-packets 1" for one packet per record),
#              P1_REDACTION ("": set to "compare" to time forward with its default redaction against
#              --no-default-redaction instead, interleaved, P1_RUNS runs each; the capture's requests carry an
#              Authorization header and a session cookie, so the default rules mask a field in every request)
set -euo pipefail

BENCH=p1
source "$(dirname "$0")/harness.sh"
PACKETS="${P1_PACKETS:-1500000}"
RUNS="${P1_RUNS:-3}"
BATCH_SIZES="${P1_BATCH_SIZES:-}"
read -r -a FORWARD_ARGS <<< "${P1_FORWARD_ARGS:-}"
PCAP="$OUT/load.pcap"

# --- build -------------------------------------------------------------------------------------------
cd "$ROOT"
log "building capture-forwarder"
flock /tmp/tb-build.lock mvn -B -q -o -pl capture-forwarder -am package -DskipTests
if ! ls standalone/target/lib/kafka-tools-*.jar >/dev/null 2>&1 || ! ls standalone/target/lib/kafka_2.13-*.jar >/dev/null 2>&1; then
  log "building standalone (for the broker and kafka-tools jars)"
  flock /tmp/tb-build.lock mvn -B -q -o -pl standalone -am package -DskipTests
fi
KAFKA_CP="standalone/target/lib/*"

# --- the capture: real HTTP load on loopback, recorded by tcpdump --------------------------------------
HTTP_PORT_FILE="$OUT/load.port"
if [ ! -s "$PCAP" ] || [ ! -s "$HTTP_PORT_FILE" ]; then
  command -v tcpdump >/dev/null && command -v ab >/dev/null || { log "needs tcpdump and ab (apache2-utils)"; exit 1; }
  HTTP_PORT="$(free_port)"
  cat > "$WORK/LoadServer.java" <<'EOF'
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

public class LoadServer {
    public static void main(String[] args) throws Exception {
        byte[] body = "{\"status\":\"ok\",\"items\":[1,2,3,4,5],\"note\":\"p1 load server response body\"}\n"
                .getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 1024);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }
}
EOF
  java -Xmx256m "$WORK/LoadServer.java" "$HTTP_PORT" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_port "$HTTP_PORT" 60
  log "capturing $PACKETS packets of ab load on 127.0.0.1:$HTTP_PORT"
  tcpdump -i lo -n -s 0 -B 65536 -c "$PACKETS" -w "$PCAP.part" "tcp port $HTTP_PORT" 2> "$WORK/tcpdump.log" &
  TCPDUMP_PID=$!; PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
  # Half the requests on fresh connections, half keep-alive: many flows, and long ones.
  ab -q -t 300 -n 100000000 -c 16 -H 'Authorization: Bearer p1-bench-credential' -C 'session=p1-bench-session' \
    "http://127.0.0.1:$HTTP_PORT/api/items?page=1" > "$WORK/ab1.log" 2>&1 &
  AB1=$!; PIDS+=("$AB1")
  ab -q -k -t 300 -n 100000000 -c 16 -H 'Authorization: Bearer p1-bench-credential' -C 'session=p1-bench-session' \
    "http://127.0.0.1:$HTTP_PORT/api/items?page=2" > "$WORK/ab2.log" 2>&1 &
  AB2=$!; PIDS+=("$AB2")
  deadline=$((SECONDS + 300))
  while kill -0 "$TCPDUMP_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 1; done
  kill "$AB1" "$AB2" "$TCPDUMP_PID" "$SERVER_PID" 2>/dev/null || true
  wait "$TCPDUMP_PID" 2>/dev/null || true
  mv "$PCAP.part" "$PCAP"
  echo "$HTTP_PORT" > "$HTTP_PORT_FILE"
fi
HTTP_PORT="$(cat "$HTTP_PORT_FILE")"
log "capture: $PCAP ($(stat -c %s "$PCAP") bytes, service port $HTTP_PORT)"

# --- a real single-node KRaft broker ---------------------------------------------------------------------
start_broker

FORWARD=(bin/trafficbus forward)
PRODUCER_PROPS=(acks=all enable.idempotence=true compression.type=lz4 linger.ms=20 batch.size=262144)

# forward_run SOURCE [--producer-property k=v ...] -> prints "packets records seconds bytes"
forward_run() {
  local source=$1; shift
  local line
  line="$("${FORWARD[@]}" --pcap "$PCAP" --port "$HTTP_PORT" \
      --source "$source" --bootstrap-servers "$BOOTSTRAP" ${FORWARD_ARGS[@]+"${FORWARD_ARGS[@]}"} "$@" \
      2> "$WORK/forward-$source.err")" \
    || { log "forward failed:"; cat "$WORK/forward-$source.err" >&2; exit 1; }
  echo "$line" >&2
  # "forward S: N packets read, M published in R records to T (X MB) in S s; ..."
  echo "$line" \
    | sed -E 's/.* ([0-9]+) published in ([0-9]+) records to [^ ]+ \(([0-9.]+) (MB|KB)\) in ([0-9.]+) s.*/\1 \2 \5 \3 \4/' \
    | awk '{ mult = ($5 == "MB") ? 1e6 : 1e3; printf "%d %d %s %d\n", $1, $2, $3, $4 * mult }'
}

# perf_run TOPIC RECORDS SIZE -> prints records/s; the topic gets the 6 partitions forward gives its topics.
perf_run() {
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$1" \
    --partitions 6 --replication-factor 1 > "$WORK/topic-$1.log" 2>&1 \
    || { log "cannot create $1:"; cat "$WORK/topic-$1.log" >&2; exit 1; }
  java -cp "$KAFKA_CP" org.apache.kafka.tools.ProducerPerformance --topic "$1" --num-records "$2" --record-size "$3" \
    --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" "${PRODUCER_PROPS[@]}" > "$WORK/perf-$1.log" 2>&1 \
    || { log "ProducerPerformance failed:"; tail -5 "$WORK/perf-$1.log" >&2; exit 1; }
  tail -1 "$WORK/perf-$1.log" >&2
  tail -1 "$WORK/perf-$1.log" | sed -E 's/^[0-9]+ records sent, ([0-9.]+) records\/sec.*/\1/'
}

# Warm-up: the first import also tells the record count and average record size (key + value).
read -r PACKETS_PUBLISHED RECORDS _ BYTES < <(forward_run "p1-warmup")
[ "${RECORDS:-0}" -gt 0 ] || { log "forward published no records"; exit 1; }
RECORD_SIZE=$(( BYTES / RECORDS ))
log "$PACKETS_PUBLISHED packets in $RECORDS records of $RECORD_SIZE bytes on average" \
  "($(awk -v p="$PACKETS_PUBLISHED" -v r="$RECORDS" 'BEGIN {printf "%.1f", p / r}') packets per record)"

if [ "${P1_REDACTION:-}" = compare ]; then
  # Redaction's cost: the same import with the default rules and without any, interleaved.
  ON=(); OFF=()
  for i in $(seq 1 "$RUNS"); do
    read -r _ records seconds _ < <(forward_run "p1-redact-on$i")
    ON+=("$(awk -v n="$records" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')")
    read -r _ records seconds _ < <(forward_run "p1-redact-off$i" --no-default-redaction)
    OFF+=("$(awk -v n="$records" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')")
  done
  ON_MEDIAN="$(printf '%s\n' "${ON[@]}" | median)"
  OFF_MEDIAN="$(printf '%s\n' "${OFF[@]}" | median)"
  echo "P1 forward --pcap, default redaction:      median $(printf '%.0f' "$ON_MEDIAN") records/s  (runs: ${ON[*]})"
  echo "P1 forward --pcap, --no-default-redaction: median $(printf '%.0f' "$OFF_MEDIAN") records/s  (runs: ${OFF[*]})"
  echo "P1 records: $RECORDS of $RECORD_SIZE bytes holding $PACKETS_PUBLISHED packets; forward options: ${FORWARD_ARGS[*]:-defaults}"
  awk -v a="$ON_MEDIAN" -v b="$OFF_MEDIAN" 'BEGIN { printf "P1 ratio redaction on / off records/s: %.2f\n", a / b }'
  exit 0
fi

FWD_PACKET_RATES=(); FWD_RECORD_RATES=(); PERF_RATES=()
for i in $(seq 1 "$RUNS"); do
  read -r packets records seconds _ < <(forward_run "p1-run$i")
  FWD_PACKET_RATES+=("$(awk -v n="$packets" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')")
  FWD_RECORD_RATES+=("$(awk -v n="$records" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')")
  PERF_RATES+=("$(perf_run "p1-perf$i" "$RECORDS" "$RECORD_SIZE")")
done

for size in $BATCH_SIZES; do
  read -r packets records seconds _ < <(forward_run "p1-batch$size" --producer-property "batch.size=$size")
  log "forward with batch.size=$size: $(awk -v n="$packets" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}') packets/s," \
    "$(awk -v n="$records" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}') records/s"
done

FWD_PACKET_MEDIAN="$(printf '%s\n' "${FWD_PACKET_RATES[@]}" | median)"
FWD_RECORD_MEDIAN="$(printf '%s\n' "${FWD_RECORD_RATES[@]}" | median)"
PERF_MEDIAN="$(printf '%s\n' "${PERF_RATES[@]}" | median)"
echo "P1 forward --pcap:       median $(printf '%.0f' "$FWD_PACKET_MEDIAN") packets/s  (runs: ${FWD_PACKET_RATES[*]})"
echo "P1 forward --pcap:       median $(printf '%.0f' "$FWD_RECORD_MEDIAN") records/s  (runs: ${FWD_RECORD_RATES[*]})"
echo "P1 ProducerPerformance:  median $(printf '%.0f' "$PERF_MEDIAN") records/s  (runs: ${PERF_RATES[*]})"
echo "P1 records: $RECORDS of $RECORD_SIZE bytes holding $PACKETS_PUBLISHED packets; forward options: ${FORWARD_ARGS[*]:-defaults};" \
  "producer: ${PRODUCER_PROPS[*]}"
awk -v f="$FWD_PACKET_MEDIAN" -v p="$PERF_MEDIAN" 'BEGIN {
  printf "P1 ratio forward packets/s / ProducerPerformance records/s: %.2f\n", f / p }'
awk -v f="$FWD_RECORD_MEDIAN" -v p="$PERF_MEDIAN" 'BEGIN {
  r = f / p; printf "P1 ratio forward records/s / ProducerPerformance records/s: %.2f (goal >= 1.00) %s\n", r, (r >= 1.0 ? "OK" : "BELOW GOAL") }'
