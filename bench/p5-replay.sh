#!/usr/bin/env bash
# P5: replay throughput. A capture of many short HTTP keep-alive sessions (ab -k against nginx-light on
# loopback, recorded by tcpdump) is published with `forward --pcap`, then `replay --speed max --until-end`
# sends it to another nginx-light, pinned to 2 cores. Beside each replay run, `ab -k` sends as many requests to
# the same nginx over as many connections as the replay may open (--max-connections), pinned the same way.
# GoReplay (`gor`, same pcap, as many workers) replays the same capture into the same nginx in every run too; it does
# not exit at the end of a file, so its requests are counted by the nginx (stub_status) until they stop coming.
# Every figure comes with the process's CPU time (user + system) per request: the machine may be shared. A warm-up
# replay first (printed, not counted): a fresh build's first run makes its class archive.
# Goals (medians of P5_RUNS interleaved runs): 20,000 requests/s, and ≥ 0.5 × ab -k's requests/s, 0 lost.
#
#   bench/p5-replay.sh          # makes bench/out/p5/capture.pcap once, then measures
# Environment: P5_REQUESTS (300000 requests in the capture: long enough that JIT warm-up is a small part), P5_PER_SESSION (10 requests per connection),
#              P5_CONCURRENCY (50 ab connections), P5_RUNS (3), P5_MAX_CONNECTIONS (replay --max-connections and ab -c, P5_CONCURRENCY),
#              P5_REPLAY_JAVA_OPTS (JVM options of the replayer only, e.g. -XX:StartFlightRecording=filename=r.jfr),
#              P5_REPLAY_ARGS (more replay options, e.g. --max-buffered-mb 16),
#              GOR (/opt/trafficbus-peers/bin/gor; built by ../shared/peers/build.sh when missing; GOR=none leaves it out)
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

GOR="${GOR:-/opt/trafficbus-peers/bin/gor}"
PEERS="${PEERS:-$ROOT/../shared/peers}"
if [ "$GOR" != none ] && [ ! -x "$GOR" ]; then
  log "building GoReplay: $PEERS/build.sh $(dirname "$(dirname "$GOR")")"
  "$PEERS/build.sh" "$(dirname "$(dirname "$GOR")")" >&2 || { log "GoReplay did not build: run with GOR=none"; exit 1; }
fi

for tool in nginx ab tcpdump taskset python3 /usr/bin/time; do
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

# nginx_requests: requests the target took so far (stub_status; the look itself is one of them)
nginx_requests() {
  python3 - "$TARGET_PORT" <<'PY'
import sys, urllib.request
t = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/tb-nginx-status", timeout=5).read().decode()
print(t.splitlines()[2].split()[2])
PY
}
# cpu_seconds FILE: user + system seconds from /usr/bin/time -f '%U %S'
cpu_seconds() { awk '{printf "%.2f", $1 + $2}' "$1"; }

# run_gor I: GoReplay from the same pcap into the same nginx; sets GOR_RATE, GOR_LOST, GOR_CPU. Its HTTP client opens a
# connection per request when busy: TIME_WAIT reuse on for its run only (as in the reference runs), put back after.
run_gor() {
  local before after last now t0 t_last pid ticks tw polls
  before=$(($(nginx_requests) - 1))
  tw="$(sysctl -n net.ipv4.tcp_tw_reuse)"
  sysctl -qw net.ipv4.tcp_tw_reuse=1
  t0="$(date +%s.%N)"
  taskset -c 0,1 "$GOR" --input-raw "$PCAP:$CAPTURE_PORT" --input-raw-engine pcap_file \
    --output-http "http://127.0.0.1:$TARGET_PORT" --output-http-workers "$MAX_CONNECTIONS" \
    --output-http-workers-min "$MAX_CONNECTIONS" --exit-after 300s > "$WORK/gor$1.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  last="$before"; t_last="$t0"; polls=0
  # Until nothing new came for 5 s (or 300 s in all).
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.5
    polls=$((polls + 1)); now=$(($(nginx_requests) - polls)) # less the looks themselves
    if [ "$now" -gt "$last" ]; then last="$now"; t_last="$(date +%s.%N)"; fi
    awk -v a="$(date +%s.%N)" -v b="$t_last" 'BEGIN { exit !(a - b > 5) }' && break
  done
  ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sysctl -qw net.ipv4.tcp_tw_reuse="$tw"
  after=$((last - before))
  GOR_RATE="$(awk -v n="$after" -v a="$t_last" -v b="$t0" 'BEGIN {printf "%.0f", n / (a - b)}')"
  GOR_LOST=$((REQUESTS - after))
  GOR_CPU="$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')"
  GOR_US="$(awk -v c="$GOR_CPU" -v n="$after" 'BEGIN {printf "%.1f", (n > 0 ? c * 1e6 / n : 0)}')"
}

# --- a warm-up replay: the first run of a fresh build makes its class archive (bin/trafficbus), a cost paid once
# per build or install and JDK, not per replay; printed, kept out of the medians ----------------------------------
JAVA_OPTS="${P5_REPLAY_JAVA_OPTS:-${JAVA_OPTS:-}}" /usr/bin/time -f '%U %S' -o "$WORK/replay0.time" \
    taskset -c 0,1 "$ROOT/bin/trafficbus" replay --topic tb.capture.p5 --target "127.0.0.1:$TARGET_PORT" \
    --bootstrap-servers "$BOOTSTRAP" --speed max --until-end --group "p5-warmup-$$" \
    --max-connections "$MAX_CONNECTIONS" ${P5_REPLAY_ARGS:-} > "$WORK/replay0.out" 2> "$WORK/replay0.err" \
  || { log "warm-up replay failed (exit $?):"; cat "$WORK/replay0.out" "$WORK/replay0.err" >&2; exit 1; }
log "warm-up run (a fresh build makes its class archive; not in the medians): $(cpu_seconds "$WORK/replay0.time") CPU s; $(head -1 "$WORK/replay0.out")"

# --- replay runs -------------------------------------------------------------------------------------------
RATES=(); AB_RATES=(); GOR_RATES=(); LOST=0; GOR_LOSTS=(); US=(); AB_US=(); GOR_USS=()
for i in $(seq 1 "$RUNS"); do
  report="$OUT/replay-run$i.json"
  JAVA_OPTS="${P5_REPLAY_JAVA_OPTS:-${JAVA_OPTS:-}}" /usr/bin/time -f '%U %S' -o "$WORK/replay$i.time" \
      taskset -c 0,1 "$ROOT/bin/trafficbus" replay --topic tb.capture.p5 --target "127.0.0.1:$TARGET_PORT" \
      --bootstrap-servers "$BOOTSTRAP" --speed max --until-end --group "p5-run$i-$$" \
      --max-connections "$MAX_CONNECTIONS" --report "$report" ${P5_REPLAY_ARGS:-} > "$WORK/replay$i.out" 2> "$WORK/replay$i.err" \
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
  sent="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"]["sent"])' "$report")"
  LOST=$((LOST + $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["messages"]["sent"]-r["messages"]["answered"])' "$report")))
  US+=("$(awk -v c="$(cpu_seconds "$WORK/replay$i.time")" -v n="$sent" 'BEGIN {printf "%.1f", c * 1e6 / n}')")
  /usr/bin/time -f '%U %S' -o "$WORK/ab$i.time" taskset -c 0,1 ab -q -k -c "$MAX_CONNECTIONS" -n "$REQUESTS" \
      "http://127.0.0.1:$TARGET_PORT/api/items?page=1" > "$WORK/ab$i.log" 2>&1 \
    || { log "ab run $i failed:"; tail -5 "$WORK/ab$i.log" >&2; exit 1; }
  AB_RATES+=("$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$WORK/ab$i.log")")
  AB_US+=("$(awk -v c="$(cpu_seconds "$WORK/ab$i.time")" -v n="$REQUESTS" 'BEGIN {printf "%.1f", c * 1e6 / n}')")
  line="run $i: replay ${RATES[-1]} requests/s ($(cpu_seconds "$WORK/replay$i.time") CPU s, ${US[-1]} µs/request), ab -k ${AB_RATES[-1]} requests/s (${AB_US[-1]} µs/request)"
  if [ "$GOR" != none ]; then
    run_gor "$i"
    GOR_RATES+=("$GOR_RATE"); GOR_LOSTS+=("$GOR_LOST"); GOR_USS+=("$GOR_US")
    line="$line, gor $GOR_RATE requests/s ($GOR_LOST lost, $GOR_US µs/request)"
  fi
  log "$line ($(uptime | sed 's/.*load/load/'))"
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
US_MEDIAN="$(printf '%s\n' "${US[@]}" | median)"; AB_US_MEDIAN="$(printf '%s\n' "${AB_US[@]}" | median)"
echo "P5 CPU per request (user + system): replay median $US_MEDIAN µs (runs: ${US[*]}), ab -k $AB_US_MEDIAN µs (runs: ${AB_US[*]}), ratio $(awk -v a="$US_MEDIAN" -v b="$AB_US_MEDIAN" 'BEGIN {printf "%.1f", a / b}')"
if [ "$GOR" != none ]; then
  GOR_MEDIAN="$(printf '%s\n' "${GOR_RATES[@]}" | median)"
  echo "P5 gor --output-http-workers $MAX_CONNECTIONS, same pcap, same nginx: median $(printf '%.0f' "$GOR_MEDIAN") requests/s (runs: ${GOR_RATES[*]}), lost per run: ${GOR_LOSTS[*]} of $REQUESTS, CPU per request median $(printf '%s\n' "${GOR_USS[@]}" | median) µs"
  awk -v m="$MEDIAN" -v g="$GOR_MEDIAN" 'BEGIN { printf "P5 replay / gor: %.2f\n", m / g }'
fi
echo "P5 load at the end: $(uptime | sed 's/.*load/load/')"
