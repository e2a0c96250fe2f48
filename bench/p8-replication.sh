#!/usr/bin/env bash
# P8: what replication costs the forwarder. `forward --pcap` of one big real capture (ab -k against nginx-light on
# loopback, recorded by tcpdump) into a topic of 3 replicas on a 3-node cluster of `trafficbus broker` processes
# (min.insync.replicas 2, acks=all: each record is on two brokers before it counts), against the same import into a
# single `trafficbus broker` (1 replica). Runs interleave (one node, three nodes, ...); medians of P8_RUNS each;
# prints both records/s figures, the ratio three-node / one-node and the machine's load.
#
#   bench/p8-replication.sh        # makes bench/out/p8/load.pcap once (P8_REQUESTS requests), then measures
# Environment: P8_REQUESTS (150000), P8_RUNS (3), BROKER_JAVA_OPTS (-Xms512m -Xmx512m, every broker the same)
set -euo pipefail

BENCH=p8
source "$(dirname "$0")/harness.sh"
REQUESTS="${P8_REQUESTS:-150000}"
RUNS="${P8_RUNS:-3}"
BROKER_OPTS="${BROKER_JAVA_OPTS:--Xms512m -Xmx512m}"
PCAP="$OUT/load.pcap"

cd "$ROOT"
log "building capture-forwarder and standalone"
flock /tmp/tb-build.lock mvn -B -q -o -pl capture-forwarder,standalone -am package -DskipTests
KAFKA_CP="standalone/target/lib/*"

command -v tcpdump >/dev/null && command -v ab >/dev/null && command -v nginx >/dev/null \
  || { log "needs tcpdump, ab (apache2-utils) and nginx-light"; exit 1; }
keepalive_capture "$PCAP" "$REQUESTS" 20 16
HTTP_PORT="$(cat "$OUT/capture.port")"
log "capture: $PCAP ($(stat -c %s "$PCAP") bytes, service port $HTTP_PORT)"

# --- one node, and a cluster of three, side by side ---------------------------------------------------------------
ONE_PORT="$(free_port)"
JAVA_OPTS="$BROKER_OPTS" bin/trafficbus broker --listen "127.0.0.1:$ONE_PORT" --data-dir "$WORK/one" \
  > "$WORK/broker-one.log" 2>&1 &
PIDS+=("$!")
ONE="127.0.0.1:$ONE_PORT"

VOTERS=""; THREE=""; CLIENT_PORTS=()
for id in 1 2 3; do
  CLIENT_PORTS+=("$(free_port)")
  VOTERS+="${VOTERS:+,}$id@127.0.0.1:$(free_port)"
done
for id in 1 2 3; do
  port="${CLIENT_PORTS[$((id - 1))]}"
  JAVA_OPTS="$BROKER_OPTS" bin/trafficbus broker --node-id "$id" --controller-voters "$VOTERS" \
    --listen "127.0.0.1:$port" --data-dir "$WORK/three-$id" > "$WORK/broker-three-$id.log" 2>&1 &
  PIDS+=("$!")
  THREE+="${THREE:+,}127.0.0.1:$port"
done
wait_port "$ONE_PORT" 120
for port in "${CLIENT_PORTS[@]}"; do wait_port "$port" 120; done
for f in "$WORK"/broker-*.log; do
  for _ in $(seq 1 600); do grep -q "broker ready" "$f" && break; sleep 0.2; done
  grep "broker ready" "$f" >&2 || { log "a broker did not start:"; tail -20 "$f" >&2; exit 1; }
done

# --replication-factor when forward has it; otherwise the cluster's default (3, see `broker --help`) applies.
RF_ARGS=()
if bin/trafficbus forward --help 2>/dev/null | grep -q -- '--replication-factor'; then
  RF_ARGS=(--replication-factor 3)
fi

# forward_run BOOTSTRAP SOURCE [ARGS...] -> prints "records seconds"
forward_run() {
  local bootstrap=$1 source=$2; shift 2
  local line
  line="$(bin/trafficbus forward --pcap "$PCAP" --port "$HTTP_PORT" --source "$source" --bootstrap-servers "$bootstrap" \
      "$@" 2> "$WORK/forward-$source.err")" \
    || { log "forward failed:"; cat "$WORK/forward-$source.err" >&2; exit 1; }
  echo "$line" >&2
  # "forward S: N packets read, M published in R records to T (X MB) in S s; ..."
  echo "$line" | sed -E 's/.* published in ([0-9]+) records to [^ ]+ \([0-9.]+ (MB|KB)\) in ([0-9.]+) s.*/\1 \3/'
}

replicas() { # BOOTSTRAP TOPIC -> the replication factor the topic got
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$1" --describe --topic "$2" \
    > "$WORK/describe-$2.log" 2>&1 || { log "cannot describe $2:"; tail -5 "$WORK/describe-$2.log" >&2; return 0; }
  sed -n 's/.*ReplicationFactor: *\([0-9]*\).*/\1/p' "$WORK/describe-$2.log" | sed -n 1p
}

LOAD_BEFORE="$(uptime)"
forward_run "$ONE" p8-warmup-one > /dev/null
forward_run "$THREE" p8-warmup-three "${RF_ARGS[@]}" > /dev/null
ONE_RATES=(); THREE_RATES=()
for i in $(seq 1 "$RUNS"); do
  read -r records seconds < <(forward_run "$ONE" "p8-one-$i")
  ONE_RATES+=("$(awk -v n="$records" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')")
  read -r records seconds < <(forward_run "$THREE" "p8-three-$i" "${RF_ARGS[@]}")
  THREE_RATES+=("$(awk -v n="$records" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')")
done
LOAD_AFTER="$(uptime)"

ONE_RF="$(replicas "$ONE" tb.capture.p8-one-1)"; THREE_RF="$(replicas "$THREE" tb.capture.p8-three-1)"
ONE_MEDIAN="$(printf '%s\n' "${ONE_RATES[@]}" | median)"
THREE_MEDIAN="$(printf '%s\n' "${THREE_RATES[@]}" | median)"
echo "P8 capture: $PCAP, $records records per import; forward options: ${RF_ARGS[*]:-cluster default replication}"
echo "P8 forward --pcap, 1 broker  (replication ${ONE_RF:-?}):   median $(printf '%.0f' "$ONE_MEDIAN") records/s  (runs: ${ONE_RATES[*]})"
echo "P8 forward --pcap, 3 brokers (replication ${THREE_RF:-?}, min.insync 2): median $(printf '%.0f' "$THREE_MEDIAN") records/s  (runs: ${THREE_RATES[*]})"
awk -v t="$THREE_MEDIAN" -v o="$ONE_MEDIAN" 'BEGIN { printf "P8 ratio 3 brokers / 1 broker records/s: %.2f\n", t / o }'
echo "P8 load before: $LOAD_BEFORE"
echo "P8 load after:  $LOAD_AFTER"
