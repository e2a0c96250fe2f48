#!/usr/bin/env bash
# P5: replay throughput. A capture of many short HTTP keep-alive sessions (ab -k against nginx-light on
# loopback, recorded by tcpdump) is published with `forward --pcap`, then `replay --speed max --until-end`
# sends it to another nginx-light, pinned to 2 cores. Beside each replay run, `ab -k` sends as many requests to
# the same nginx over as many connections as the replay may open (--max-connections), pinned the same way.
# Goals (medians of P5_RUNS interleaved runs): 20,000 requests/s, and ≥ 0.5 × ab -k's requests/s, 0 lost.
#
#   bench/p5-replay.sh          # makes bench/out/p5/capture.pcap once, then measures
# Environment: P5_REQUESTS (300000 requests in the capture: long enough that JIT warm-up is a small part), P5_PER_SESSION (10 requests per connection),
#              P5_CONCURRENCY (50 ab connections), P5_RUNS (3), P5_MAX_CONNECTIONS (replay --max-connections and ab -c, P5_CONCURRENCY),
#              P5_REPLAY_JAVA_OPTS (JVM options of the replayer only, e.g. -XX:StartFlightRecording=filename=r.jfr)
set -euo pipefail

BENCH=p5
source "$(dirname "$0")/harness.sh"
REQUESTS="${P5_REQUESTS:-300000}"
PER_SESSION="${P5_PER_SESSION:-10}"
CONCURRENCY="${P5_CONCURRENCY:-50}"
RUNS="${P5_RUNS:-3}"
MAX_CONNECTIONS="${P5_MAX_CONNECTIONS:-$CONCURRENCY}"
GOAL=20000
PCAP="$OUT/capture.pcap"

for tool in nginx ab tcpdump taskset python3; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, apache2-utils, tcpdump, util-linux, python3)"; exit 1; }
done

# --- build -------------------------------------------------------------------------------------------
build_replay_jars

# --- the capture: real HTTP keep-alive load on loopback, recorded by tcpdump ---------------------------
keepalive_capture "$PCAP" "$REQUESTS" "$PER_SESSION" "$CONCURRENCY"
CAPTURE_PORT="$(cat "$OUT/capture.port")"
log "capture: $PCAP ($(stat -c %s "$PCAP") bytes, service port $CAPTURE_PORT)"

# --- broker, topic, target -----------------------------------------------------------------------------
start_broker

publish_pcap "$PCAP" "$CAPTURE_PORT" p5
sed 's/^/p5: /' "$WORK/forward.log" >&2

TARGET_PORT="$(free_port)"
start_nginx target "$TARGET_PORT" 1000000
log "target nginx on 127.0.0.1:$TARGET_PORT"

# --- replay runs -------------------------------------------------------------------------------------------
RATES=(); AB_RATES=(); LOST=0
for i in $(seq 1 "$RUNS"); do
  report="$OUT/replay-run$i.json"
  JAVA_OPTS="${P5_REPLAY_JAVA_OPTS:-${JAVA_OPTS:-}}" taskset -c 0,1 "$ROOT/bin/trafficbus" replay --topic tb.capture.p5 --target "127.0.0.1:$TARGET_PORT" \
      --bootstrap-servers "$BOOTSTRAP" --speed max --until-end --group "p5-run$i-$$" \
      --max-connections "$MAX_CONNECTIONS" --report "$report" > "$WORK/replay$i.out" 2> "$WORK/replay$i.err" \
    || { log "replay run $i failed (exit $?):"; cat "$WORK/replay$i.out" "$WORK/replay$i.err" >&2; exit 1; }
  sed 's/^/p5: run '"$i"': /' "$WORK/replay$i.out" >&2
  RATES+=("$(python3 - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sent, answered, failed = r["messages"]["sent"], r["messages"]["answered"], r["sessions"]["failed"]
if failed or answered != sent:
    print(f"p5: warning: {failed} sessions failed, {answered} of {sent} requests answered", file=sys.stderr)
print(f'{sent / r["seconds"]:.0f}')
PY
)")
  LOST=$((LOST + $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["messages"]["sent"]-r["messages"]["answered"])' "$report")))
  taskset -c 0,1 ab -q -k -c "$MAX_CONNECTIONS" -n "$REQUESTS" "http://127.0.0.1:$TARGET_PORT/api/items?page=1" > "$WORK/ab$i.log" 2>&1 \
    || { log "ab run $i failed:"; tail -5 "$WORK/ab$i.log" >&2; exit 1; }
  AB_RATES+=("$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$WORK/ab$i.log")")
  log "run $i: replay ${RATES[-1]} requests/s, ab -k ${AB_RATES[-1]} requests/s ($(uptime | sed 's/.*load/load/'))"
done

MEDIAN="$(printf '%s\n' "${RATES[@]}" | median)"
echo "P5 replay --speed max --until-end (taskset -c 0,1): median $(printf '%.0f' "$MEDIAN") requests/s  (runs: ${RATES[*]})"
echo "P5 capture: $REQUESTS requests, $PER_SESSION per keep-alive session; rate = requests sent / whole run time (start-up included)"
awk -v m="$MEDIAN" -v g="$GOAL" 'BEGIN {
  r = m / g; printf "P5 ratio to the goal of %d requests/s: %.2f %s\n", g, r, (r >= 1 ? "OK" : "BELOW GOAL") }'
AB_MEDIAN="$(printf '%s\n' "${AB_RATES[@]}" | median)"
echo "P5 ab -k -c $MAX_CONNECTIONS -n $REQUESTS on the same nginx (taskset -c 0,1): median $(printf '%.0f' "$AB_MEDIAN") requests/s  (runs: ${AB_RATES[*]})"
awk -v m="$MEDIAN" -v a="$AB_MEDIAN" -v lost="$LOST" 'BEGIN {
  r = m / a; printf "P5 replay / ab -k: %.2f, %d requests lost; goal ≥ 0.5 and 0 lost: %s\n", r, lost, (r >= 0.5 && lost == 0 ? "OK" : "BELOW GOAL") }'
