#!/usr/bin/env bash
# P2: live capture under load. tcpreplay drives P1's loopback HTTP capture through a veth pair at fixed packet
# rates (bounded: P2_SECONDS of packets per run) while `forward --interface` captures the receiving end and
# publishes to a real broker. Reports per rate: the rate tcpreplay reached, kernel drops (pcap ps_drop/ps_ifdrop),
# forwarder drops (pending-full), publish errors and forwarder CPU seconds per million packets; beside
# `tcpdump -w /dev/null` with the same filter on the same traffic, and beside Kafka's ProducerPerformance for
# records of the forwarder's average size on the same broker (the "producer floor").
# Drops and errors are summed over whole runs (warm-up included); CPU per packet is the measured part's.
# Two forwarder modes per rate: "batched" (the default: a record carries the packets of one flow that arrive within
# --batch-window) and "single" (--batch-max-packets 1: one packet per record, as before batching).
# Beside them, GoReplay's forwarder on the same traffic: `gor --input-raw :PORT --output-tcp` into a
# `gor --input-tcp --output-null` aggregator, its CPU per packet (per packet tcpreplay sent) and peak RSS.
# Each forwarder run also prints where its CPU went, per thread (capture, sending, the producer's network thread, GC,
# JIT compilers) and its peak RSS.
# Goal (issue "light on the production host"): drop-free at 100,000 packets/s with CPU per packet <= 5 x tcpdump's.
#
#   sudo bench/p2-live.sh        # needs root (veth pair, packet capture), tcpreplay, tcpdump; uses bench/out/p1/load.pcap
# Environment: P2_RUNS (3), P2_SECONDS (10), P2_RATES ("": 100000, 0.8 x floor and the floor), P2_MAX_PENDING (256MB),
#   P2_WARMUP_PACKETS (600000: replayed at 50,000/s into each forwarder before its measured run; CPU counts after it),
#   P2_MODES ("batched single"), P2_FORWARD_JAVA_OPTS ("": the JVM bin/trafficbus starts a live forward with, a small
#   fixed heap), TRAFFICBUS_PEERS (/opt/trafficbus-peers: bin/gor; without it the GoReplay column is left out)
set -euo pipefail

BENCH=p2
source "$(dirname "$0")/harness.sh"
RUNS="${P2_RUNS:-3}"
RUN_SECONDS="${P2_SECONDS:-10}"
RATES="${P2_RATES:-}"
MAX_PENDING="${P2_MAX_PENDING:-256MB}"
WARMUP_PACKETS="${P2_WARMUP_PACKETS:-600000}"
MODES="${P2_MODES:-batched single}"
GOR="${TRAFFICBUS_PEERS:-/opt/trafficbus-peers}/bin/gor"
[ -x "$GOR" ] || { log "no $GOR (set TRAFFICBUS_PEERS): GoReplay is left out"; GOR=""; }
WARMUP_RATE=50000
HZ="$(getconf CLK_TCK)"

[ "$(id -u)" = 0 ] || { log "needs root (veth pair, packet capture)"; exit 2; }
for tool in ip tcpreplay tcpdump; do
  command -v "$tool" >/dev/null || { log "needs $tool"; exit 2; }
done

# --- build and the capture ---------------------------------------------------------------------------------
cd "$ROOT"
log "building capture-forwarder"
flock /tmp/tb-build.lock mvn -B -q -o -pl capture-forwarder -am package -DskipTests
if ! ls standalone/target/lib/kafka-tools-*.jar >/dev/null 2>&1 || ! ls standalone/target/lib/kafka_2.13-*.jar >/dev/null 2>&1; then
  log "building standalone (for the broker and kafka-tools jars)"
  flock /tmp/tb-build.lock mvn -B -q -o -pl standalone -am package -DskipTests
fi
KAFKA_CP="standalone/target/lib/*"

# --- a veth pair: tcpreplay writes into one end, the capture reads the other ----------------------------------
VA="tbp2a$$"
VB="tbp2b$$"
p1_capture_and_veth "$VA" "$VB"

start_broker
BROKER_PORT="${BOOTSTRAP##*:}"
# What forward generates for --port $HTTP_PORT with this broker (printed in its "capturing on" line, checked below).
FILTER="tcp and (port $HTTP_PORT) and not (host 127.0.0.1 and port $BROKER_PORT)"
PRODUCER_PROPS=(acks=all enable.idempotence=true compression.type=lz4 linger.ms=5 batch.size=262144)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_mb() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# thread_ticks PID: "name ticks" per thread, the JVM's threads grouped by what they do
thread_ticks() {
  local t name
  for t in /proc/"$1"/task/*; do
    name="$(cat "$t/comm" 2>/dev/null)" || continue
    case "$name" in
      java) name=capture ;; trafficbus-send*) name=sending ;; kafka-producer*) name=producer-network ;;
      "VM Thread"|GC*) name=gc ;; C1*|C2*) name=jit ;; *) name=other ;;
    esac
    echo "$name $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)"
  done | awk '{v[$1] += $2} END {for (k in v) print k, v[k]}' | sort
}

wait_for_line() { # file text seconds pid
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$4" 2>/dev/null || { log "process ended early:"; cat "$1" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "no '$2' after $3 s:"; cat "$1" >&2; exit 1; }
    sleep 0.2
  done
}

metric() { # port name -> value (0 when absent)
  curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 ~ "^"n"\\{" {v += $2} END {printf "%.0f\n", v + 0}'
}

# replay RATE LOG [PACKETS]: P2_SECONDS worth of packets at RATE (or PACKETS); prints the rate tcpreplay reached.
replay() {
  local limit=${3:-$(($1 * RUN_SECONDS))}
  tcpreplay -K -i "$VA" --pps="$1" --limit="$limit" --loop=0 "$PCAP" > "$2" 2>&1 \
    || { log "tcpreplay failed:"; tail -5 "$2" >&2; exit 1; }
  awk '/^Rated:/ {printf "%.0f\n", $(NF-1)}' "$2"
}

# published_all PORT: waits until everything captured is published or dropped (at most 30 s).
published_all() {
  local deadline=$((SECONDS + 30)) captured published dropped
  while :; do
    captured="$(metric "$1" trafficbus_forward_packets_captured_total)"
    published="$(metric "$1" trafficbus_forward_packets_published_total)"
    dropped="$(metric "$1" trafficbus_forward_packets_dropped_total)"
    [ "$((published + dropped))" -lt "$captured" ] && [ $SECONDS -lt $deadline ] || break
    sleep 0.2
  done
}

mode_args() { [ "$1" = single ] && echo "--batch-max-packets 1" || true; }

# forward_run RATE TAG MODE -> "actual_pps captured published dropped kernel_dropped if_dropped errors cpu_s_per_M bytes records"
forward_run() {
  local rate=$1 tag=$2 port out err pid t0 t1 line
  port="$(free_port)"; out="$WORK/fwd-$tag.out"; err="$WORK/fwd-$tag.err"
  # shellcheck disable=SC2046
  JAVA_OPTS="${P2_FORWARD_JAVA_OPTS:-}" bin/trafficbus forward --interface "$VB" \
    --port "$HTTP_PORT" --source "p2-$tag" --bootstrap-servers "$BOOTSTRAP" --metrics-port "$port" --status-interval 0 \
    --max-pending "$MAX_PENDING" $(mode_args "$3") > "$out" 2> "$err" &
  pid=$!; PIDS+=("$pid")
  wait_for_line "$err" "capturing on $VB" 90 "$pid"
  grep -qF "with filter '$FILTER'" "$err" || { log "forward's filter differs from tcpdump's:"; cat "$err" >&2; exit 1; }
  # Warm-up (JIT) first: a forwarder runs for days, so the steady per-packet cost is what counts.
  replay "$WARMUP_RATE" "$WORK/warmup-$tag.log" "$WARMUP_PACKETS" > /dev/null
  published_all "$port"
  local c0; c0="$(metric "$port" trafficbus_forward_packets_captured_total)"
  t0="$(cpu_ticks "$pid")"
  thread_ticks "$pid" > "$WORK/threads0-$tag"
  local actual; actual="$(replay "$rate" "$WORK/replay-$tag.log")"
  published_all "$port"
  local c1; c1="$(metric "$port" trafficbus_forward_packets_captured_total)"
  local bytes; bytes="$(metric "$port" trafficbus_forward_bytes_published_total)"
  local records; records="$(metric "$port" trafficbus_forward_records_published_total)"
  t1="$(cpu_ticks "$pid")"
  thread_ticks "$pid" > "$WORK/threads1-$tag"
  local rss; rss="$(peak_rss_mb "$pid")"
  kill -TERM "$pid"; wait "$pid" || true
  line="$(grep "^forward p2-$tag:" "$out")" || { log "no summary:"; cat "$out" "$err" >&2; exit 1; }
  echo "$line" >&2
  log "$tag: CPU us per packet by thread: $(join "$WORK/threads0-$tag" "$WORK/threads1-$tag" | awk -v hz="$HZ" \
    -v n="$(( c1 - c0 ))" '{printf "%s %.3f, ", $1, (n > 0 ? ($3 - $2) / hz / n * 1e6 : 0)}')peak RSS $rss MB"
  echo "$line" | awk -v a="$actual" -v c="$(( t1 - t0 ))" -v hz="$HZ" -v b="$bytes" -v rec="$records" -v n="$(( c1 - c0 ))" '{
    match($0, /: [0-9]+ packets captured/); cap = substr($0, RSTART + 2, RLENGTH - 19) + 0
    match($0, /, [0-9]+ published/); pub = substr($0, RSTART + 2, RLENGTH - 12) + 0
    drop = 0; if (match($0, /pending-full [0-9]+/)) drop += substr($0, RSTART + 13, RLENGTH - 13)
    if (match($0, /flush-timeout [0-9]+/)) drop += substr($0, RSTART + 14, RLENGTH - 14)
    err = 0; if (match($0, /[0-9]+ publish errors/)) err = substr($0, RSTART, RLENGTH - 15) + 0
    match($0, /kernel: [0-9]+ received, [0-9]+ dropped, [0-9]+ dropped by the interface/)
    split(substr($0, RSTART, RLENGTH), k, /[ ,]+/)
    printf "%s %d %d %d %d %d %d %.3f %d %d\n", a, cap, pub, drop, k[4], k[6], err, (n > 0 ? c / hz / n * 1e6 : 0), b, rec
  }'
}

# tcpdump_run RATE TAG -> "actual_pps captured kernel_dropped cpu_s_per_M"
tcpdump_run() {
  local rate=$1 tag=$2 err="$WORK/tcpdump-$2.err" pid t0 t1
  tcpdump -i "$VB" -n -s 65535 -B 65536 -w /dev/null "$FILTER" 2> "$err" &
  pid=$!; PIDS+=("$pid")
  wait_for_line "$err" "listening on" 30 "$pid"
  t0="$(cpu_ticks "$pid")"
  local actual; actual="$(replay "$rate" "$WORK/replay-td-$tag.log")"
  sleep 1
  t1="$(cpu_ticks "$pid")"
  kill -TERM "$pid"; wait "$pid" || true
  local cap drop
  cap="$(awk '/packets captured/ {print $1}' "$err")"
  drop="$(awk '/packets dropped by kernel/ {print $1}' "$err")"
  awk -v a="$actual" -v cap="$cap" -v d="$drop" -v c="$(( t1 - t0 ))" -v hz="$HZ" \
    'BEGIN {printf "%s %d %d %.3f\n", a, cap, d, (cap > 0 ? c / hz / cap * 1e6 : 0)}'
}

# gor_run RATE TAG -> "actual_pps cpu_s_per_M peak_rss_mb": GoReplay's forwarder on the same traffic into its aggregator
gor_run() {
  local rate=$1 tag=$2 port fpid apid t0 t1 sent
  port="$(free_port)"
  "$GOR" --input-tcp "127.0.0.1:$port" --output-null > "$WORK/gor-agg-$tag.log" 2>&1 &
  apid=$!; PIDS+=("$apid")
  wait_port "$port" 20
  # gor's own filter asks for the interface's address as destination; the replayed packets carry the capture's.
  "$GOR" --input-raw "$VB:$HTTP_PORT" --input-raw-bpf-filter "$FILTER" --output-tcp "127.0.0.1:$port" \
    > "$WORK/gor-$tag.log" 2>&1 &
  fpid=$!; PIDS+=("$fpid")
  sleep 2
  kill -0 "$fpid" 2>/dev/null || { log "gor ended early:"; cat "$WORK/gor-$tag.log" >&2; exit 1; }
  replay "$WARMUP_RATE" "$WORK/warmup-gor-$tag.log" "$WARMUP_PACKETS" > /dev/null
  sleep 1
  t0="$(cpu_ticks "$fpid")"
  local actual; actual="$(replay "$rate" "$WORK/replay-gor-$tag.log")"
  sleep 1
  t1="$(cpu_ticks "$fpid")"
  local rss; rss="$(peak_rss_mb "$fpid")"
  sent="$(awk '/^Actual:/ {print $2}' "$WORK/replay-gor-$tag.log")"
  kill -TERM "$fpid" "$apid"; wait "$fpid" "$apid" 2>/dev/null || true
  awk -v a="$actual" -v c="$(( t1 - t0 ))" -v hz="$HZ" -v n="$sent" -v r="$rss" \
    'BEGIN {printf "%s %.3f %s\n", a, (n > 0 ? c / hz / n * 1e6 : 0), r}'
}

# perf_run TOPIC RECORDS SIZE -> "records/s cpu_s_per_M" (as in P1: a 6-partition topic, the forwarder's producer
# settings). The CPU is the whole ProducerPerformance process's (JVM start included), from bash's `times`.
perf_run() {
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$1" \
    --partitions 6 --replication-factor 1 > "$WORK/topic-$1.log" 2>&1 \
    || { log "cannot create $1:"; cat "$WORK/topic-$1.log" >&2; exit 1; }
  ( java -cp "$KAFKA_CP" org.apache.kafka.tools.ProducerPerformance --topic "$1" --num-records "$2" --record-size "$3" \
      --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" "${PRODUCER_PROPS[@]}" > "$WORK/perf-$1.log" 2>&1 \
    && times > "$WORK/times-$1" ) \
    || { log "ProducerPerformance failed:"; tail -5 "$WORK/perf-$1.log" >&2; exit 1; }
  tail -1 "$WORK/perf-$1.log" >&2
  local rate cpu
  rate="$(tail -1 "$WORK/perf-$1.log" | sed -E 's/^[0-9]+ records sent, ([0-9.]+) records\/sec.*/\1/')"
  # times' second line: the children's user and system time, e.g. "0m12.340s 0m1.230s".
  cpu="$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } print t }' "$WORK/times-$1")"
  awk -v r="$rate" -v c="$cpu" -v n="$2" 'BEGIN {printf "%s %.3f\n", r, c / n * 1e6}'
}

# --- warm-up: the size of a one-packet record; then the producer floor for such records ---------------------------
read -r _ _ WARM_PUBLISHED _ _ _ _ _ WARM_BYTES WARM_RECORDS < <(forward_run 20000 warmup single)
[ "$WARM_RECORDS" -gt 0 ] || { log "the warm-up published nothing"; exit 1; }
RECORD_SIZE=$(( WARM_BYTES / WARM_RECORDS ))
log "one-packet records of $RECORD_SIZE bytes on average (key + value)"
PERF=(); PERF_CPU=()
for i in $(seq 1 "$RUNS"); do
  read -r prate pcpu < <(perf_run "p2-perf$i" 1500000 "$RECORD_SIZE")
  PERF+=("$prate"); PERF_CPU+=("$pcpu")
done
FLOOR="$(printf '%s\n' "${PERF[@]}" | median)"
FLOOR_CPU="$(printf '%s\n' "${PERF_CPU[@]}" | median)"
GOAL="$(awk -v f="$FLOOR" 'BEGIN {g = 0.8 * f; if (g < 100000) g = 100000; printf "%.0f", g}')"
[ -n "$RATES" ] || RATES="100000 $(awk -v f="$FLOOR" 'BEGIN {printf "%.0f %.0f", 0.8 * f, f}')"
log "producer floor $FLOOR records/s; goal: drop-free at $GOAL packets/s; rates: $RATES"

# --- the rates ---------------------------------------------------------------------------------------------------
SUMMARY=()
for rate in $RATES; do
  T_ACT=(); T_CPU=(); T_KDROPS=0; G_ACT=(); G_CPU=(); G_RSS=()
  declare -A F_ACT=() F_CPU=() F_PPR=() F_DROPS=() F_KDROPS=() F_ERRS=()
  for i in $(seq 1 "$RUNS"); do
    for mode in $MODES; do
      read -r act cap pub drop kdrop ifdrop errs cpu _ recs < <(forward_run "$rate" "r$rate-$mode-$i" "$mode")
      F_ACT[$mode]+="$act "; F_CPU[$mode]+="$cpu "
      F_PPR[$mode]+="$(awk -v p="$pub" -v r="$recs" 'BEGIN {printf "%.2f", (r > 0 ? p / r : 0)}') "
      F_DROPS[$mode]=$(( ${F_DROPS[$mode]:-0} + drop )); F_KDROPS[$mode]=$(( ${F_KDROPS[$mode]:-0} + kdrop + ifdrop ))
      F_ERRS[$mode]=$(( ${F_ERRS[$mode]:-0} + errs ))
      [ "$((pub + drop + errs))" -eq "$cap" ] || log "run $i at $rate ($mode): counters do not add up ($cap captured, $pub published, $drop dropped, $errs errors)"
    done
    read -r tact tcap tkdrop tcpu < <(tcpdump_run "$rate" "r$rate-$i")
    T_ACT+=("$tact"); T_CPU+=("$tcpu"); T_KDROPS=$((T_KDROPS + tkdrop))
    if [ -n "$GOR" ]; then
      read -r gact gcpu grss < <(gor_run "$rate" "r$rate-$i")
      G_ACT+=("$gact"); G_CPU+=("$gcpu"); G_RSS+=("$grss")
      log "run $i at $rate: gor $gact pps reached, $gcpu CPU s/M pkts, peak RSS $grss MB"
    fi
  done
  ta="$(printf '%s\n' "${T_ACT[@]}" | median)"; tc="$(printf '%s\n' "${T_CPU[@]}" | median)"
  for mode in $MODES; do
    fa="$(printf '%s\n' ${F_ACT[$mode]} | median)"; fc="$(printf '%s\n' ${F_CPU[$mode]} | median)"
    fp="$(printf '%s\n' ${F_PPR[$mode]} | median)"
    SUMMARY+=("$(awk -v r="$rate" -v m="$mode" -v fa="$fa" -v fd="${F_DROPS[$mode]}" -v fk="${F_KDROPS[$mode]}" \
        -v fe="${F_ERRS[$mode]}" -v fc="$fc" -v fp="$fp" -v ta="$ta" -v tk="$T_KDROPS" -v tc="$tc" -v runs="$RUNS" 'BEGIN {
      printf "P2 %7d pps asked | forward %-7s: %7.0f pps reached, %5.2f packets/record, drops %d pending-full + %d kernel, %d publish errors, %.2f CPU s/M pkts | tcpdump: %7.0f pps reached, %d kernel drops, %.2f CPU s/M pkts | CPU ratio %.2f (sums over %d runs, medians)",
        r, m, fa, fp, fd, fk, fe, fc, ta, tk, tc, (tc > 0 ? fc / tc : 0), runs }')")
    echo "${SUMMARY[-1]}" >&2
  done
  if [ -n "$GOR" ]; then
    ga="$(printf '%s\n' "${G_ACT[@]}" | median)"; gc="$(printf '%s\n' "${G_CPU[@]}" | median)"
    gr="$(printf '%s\n' "${G_RSS[@]}" | median)"
    SUMMARY+=("$(awk -v r="$rate" -v ga="$ga" -v gc="$gc" -v gr="$gr" -v tc="$tc" 'BEGIN {
      printf "P2 %7d pps asked | GoReplay gor --input-raw -> --output-tcp aggregator: %7.0f pps reached, %.2f CPU s/M pkts, peak RSS %.1f MB | CPU ratio to tcpdump %.2f (medians)",
        r, ga, gc, gr, (tc > 0 ? gc / tc : 0) }')")
    echo "${SUMMARY[-1]}" >&2
  fi
  unset F_ACT F_CPU F_PPR F_DROPS F_KDROPS F_ERRS
done

echo "P2 ProducerPerformance ($RECORD_SIZE-byte records, ${PRODUCER_PROPS[*]}): median $(printf '%.0f' "$FLOOR") records/s (runs: ${PERF[*]}), $FLOOR_CPU CPU s/M records (JVM start included; runs: ${PERF_CPU[*]})"
printf '%s\n' "${SUMMARY[@]}"
echo "P2 goal: no drops up to $GOAL packets/s (max of 100,000 and 0.8 x floor); at 100,000 packets/s forwarder CPU per packet <= 5 x tcpdump's."
echo "P2 load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (tcpreplay, broker and capture share them)"
