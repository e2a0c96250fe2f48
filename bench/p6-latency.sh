#!/usr/bin/env bash
# P6: how long a request takes from the production wire to the test server. wrk sends P6_RATE requests/s (open loop, unique
# paths, keep-alive connections that nginx ends every 100 requests) to a "production" nginx-light on loopback;
# `forward --interface lo` captures them into a real broker and a live `replay --speed 1` (socket engine) sends them
# to a "test" nginx-light. Measured per request path, for the requests of the measured part of each run:
#   per packet:  the request's packet on the production port -> the replayed packet on the test port (tcpdump
#                timestamps, us; every request is one packet here, so this is also the packet-level latency)
#   per request: nginx's arrival time ($msec - $request_time) at production -> at the test server (ms resolution)
# Beside it, interleaved, GoReplay on the same traffic: `gor --input-raw :PORT --output-http http://TEST` (one
# process, no bus). Reports p50/p99/max, the requests lost, the rate reached and the forwarder's --batch-window and
# producer linger.ms. Goal: trafficbus p99 <= 50 ms at 10,000 requests/s (medians of P6_RUNS runs).
#
#   sudo bench/p6-latency.sh       # needs root (capture), nginx, wrk, tcpdump; gor from $TRAFFICBUS_PEERS/bin/gor
# Environment: P6_RUNS (3), P6_RATE (10000), P6_SECONDS (20 measured, after P6_WARMUP_SECONDS 10 at the same rate),
#   P6_CONNECTIONS (50), P6_BATCH_WINDOW (forward's default, 5ms), P6_LINGER_MS (forward's default for a live
#   capture, 10), P6_MODES ("trafficbus gor"), TRAFFICBUS_PEERS (/opt/trafficbus-peers: bin/gor; built with
#   PEERS_BUILD, a build.sh that takes the install directory, when missing)
set -euo pipefail

BENCH=p6
source "$(dirname "$0")/harness.sh"
RUNS="${P6_RUNS:-3}"
RATE="${P6_RATE:-10000}"
MEASURE_SECONDS="${P6_SECONDS:-20}"
WARMUP_SECONDS="${P6_WARMUP_SECONDS:-10}"
CONNECTIONS="${P6_CONNECTIONS:-50}"
WINDOW="${P6_BATCH_WINDOW:-5ms}"
LINGER_MS="${P6_LINGER_MS:-10}"
MODES="${P6_MODES:-trafficbus gor}"
PEERS="${TRAFFICBUS_PEERS:-/opt/trafficbus-peers}"
GOAL_P99_MS=50

[ "$(id -u)" = 0 ] || { log "needs root (packet capture)"; exit 2; }
for tool in nginx wrk tcpdump python3 curl; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, wrk, tcpdump, python3, curl)"; exit 2; }
done
GOR="$PEERS/bin/gor"
if [[ " $MODES " == *" gor "* ]] && [ ! -x "$GOR" ]; then
  [ -n "${PEERS_BUILD:-}" ] || { log "no $GOR: set TRAFFICBUS_PEERS, or PEERS_BUILD to the peers' build.sh, or P6_MODES=trafficbus"; exit 2; }
  log "building the reference tools into $PEERS with $PEERS_BUILD"
  "$PEERS_BUILD" "$PEERS" >&2
fi

build_replay_jars
KAFKA_CP="$ROOT/standalone/target/lib/*"
start_broker

# --- two nginx-light servers that log when each request arrived -------------------------------------------------
PROD_PORT="$(free_port)"
TEST_PORT="$(free_port)"
nginx_up() { # name port
  local dir="$WORK/nginx-$1"
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 4096; }
http {
    log_format arrival '\$msec \$request_time \$request_uri';
    access_log access.log arrival;
    client_body_temp_path body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    keepalive_requests 100;
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:$2 backlog=4096;
        default_type text/plain;
        location / { return 200 "ok\n"; }
    }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/stdout.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$2" 20
}
nginx_up prod "$PROD_PORT"
nginx_up test "$TEST_PORT"
PROD_LOG="$WORK/nginx-prod/access.log"
TEST_LOG="$WORK/nginx-test/access.log"

# wrk at a fixed rate: each thread schedules its n-th request at start + n / (its share of P6_RATE) on the monotonic
# clock (LuaJIT's FFI), whichever of its connections is free; paths /p6/TAG/THREAD-N.
cat > "$WORK/paced.lua" <<'EOF'
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } p6_timespec; int clock_gettime(int, p6_timespec *); ]]
local ts = ffi.new("p6_timespec")
local function now_ms() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) tag = args[1]; interval = tonumber(args[2]); n = 0; due = 0; start = nil end
function request() n = n + 1; return wrk.format("GET", "/p6/" .. tag .. "/" .. tid .. "-" .. n) end
function delay()
  if start == nil then start = now_ms() end
  due = due + interval
  local wait = start + due - now_ms()
  if wait < 0 then return 0 end
  return math.floor(wait)
end
EOF
WRK_THREADS=2
INTERVAL_MS="$(awk -v r="$RATE" -v t="$WRK_THREADS" 'BEGIN {printf "%.6f", t * 1000 / r}')"
load() { # tag seconds
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$2s" -s "$WORK/paced.lua" "http://127.0.0.1:$PROD_PORT/" -- "$1" "$INTERVAL_MS" \
    > "$WORK/wrk-$1.log" 2>&1 || { log "wrk failed:"; cat "$WORK/wrk-$1.log" >&2; exit 1; }
  log "wrk $1: $(grep -E 'requests in|Requests/sec' "$WORK/wrk-$1.log" | tr -s ' \n' ' ')"
}

wait_for_line() { # file text seconds pid
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$4" 2>/dev/null || { log "process ended early:"; tail -20 "$1" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "no '$2' after $3 s:"; tail -20 "$1" >&2; exit 1; }
    sleep 0.2
  done
}

# arrived TAG COUNT SECONDS: waits until the test server logged COUNT requests of TAG (at most SECONDS)
arrived() {
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n="$(grep -c "/p6/$1/" "$TEST_LOG" || true)"
    [ "$n" -lt "$2" ] || return 0
    sleep 0.5
  done
  log "only $n of $2 requests of $1 reached the test server after $3 s"
}

# the copier under test, started before the load and stopped after it: sets COPIER_PIDS
start_copier() { # mode run
  COPIER_PIDS=()
  if [ "$1" = trafficbus ]; then
    local source="p6-$2"
    "$ROOT/bin/trafficbus" forward --interface lo --port "$PROD_PORT" --source "$source" --bootstrap-servers "$BOOTSTRAP" \
      --batch-window "$WINDOW" --producer-property "linger.ms=$LINGER_MS" --status-interval 0 \
      > "$WORK/forward-$2.out" 2> "$WORK/forward-$2.err" &
    COPIER_PIDS+=("$!"); PIDS+=("$!")
    wait_for_line "$WORK/forward-$2.err" "capturing on lo" 90 "${COPIER_PIDS[0]}"
    "$ROOT/bin/trafficbus" replay --topic "tb.capture.$source" --target "127.0.0.1:$TEST_PORT" --speed 1 \
      --bootstrap-servers "$BOOTSTRAP" > "$WORK/replay-$2.out" 2> "$WORK/replay-$2.err" &
    COPIER_PIDS+=("$!"); PIDS+=("$!")
    wait_for_line "$WORK/replay-$2.err" "following the topic" 90 "${COPIER_PIDS[1]}"
    # replay --speed 1 anchors its clock at the first record it reads, and keeps that record's delay for every later
    # one: a request captured before the replayer owns the partitions would set everything back by its start-up.
    # So: wait until the group has its members, then one request, and the load only once it has arrived.
    local deadline=$((SECONDS + 90))
    until java -cp "$KAFKA_CP" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" \
        --describe --group "trafficbus-replay-tb.capture.$source" 2>/dev/null | grep -q "tb.capture.$source .* /127.0.0.1"; do
      [ $SECONDS -lt $deadline ] || { log "the replayer did not join its group:"; tail -5 "$WORK/replay-$2.err" >&2; exit 1; }
      sleep 1
    done
    curl -s -o /dev/null "http://127.0.0.1:$PROD_PORT/p6/prime$2/1"
    arrived "prime$2" 1 30
  else
    "$GOR" --input-raw ":$PROD_PORT" --output-http "http://127.0.0.1:$TEST_PORT" > "$WORK/gor-$2.out" 2>&1 &
    COPIER_PIDS+=("$!"); PIDS+=("$!")
    sleep 2
  fi
}

stop_copier() {
  local pid
  for pid in "${COPIER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${COPIER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$1" = trafficbus ]; then
    grep -h "^forward p6-" "$WORK/forward-$2.out" | cut -c1-200 | sed "s/^/$BENCH: /" >&2 || true
    grep -o "publish latency avg [0-9.]* ms max [0-9.]* ms" "$WORK/forward-$2.err" | tail -1 \
      | sed "s/^/$BENCH: forward, capture to broker acknowledgement (last status interval): /" >&2 || true
    grep -h "^replayed" "$WORK/replay-$2.out" "$WORK/replay-$2.err" | cut -c1-300 | sed "s/^/$BENCH: /" >&2 || true
  fi
}

# one_run MODE RUN -> "reached_rps lost pkt_p50 pkt_p99 pkt_max req_p50 req_p99 req_max" (ms)
one_run() {
  local mode=$1 run=$2 tag="m$2$1" td="$WORK/tcpdump-$2-$1.txt" tdpid expected
  start_copier "$mode" "$run"
  # The first requests through a new path find cold JIT code, new connections and a replay clock to anchor.
  load "w$2$1" "$WARMUP_SECONDS"
  arrived "w$2$1" "$(grep -c "/p6/w$2$1/" "$PROD_LOG")" 60
  # Request packets only (payload starting "GET "), to either server.
  tcpdump -i lo -tt -n -l -A -s 200 -B 16384 \
    "tcp and (dst port $PROD_PORT or dst port $TEST_PORT) and tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420" \
    > "$td" 2> "$td.err" &
  tdpid=$!; PIDS+=("$tdpid")
  wait_for_line "$td.err" "listening on" 20 "$tdpid"
  load "$tag" "$MEASURE_SECONDS"
  expected="$(grep -c "/p6/$tag/" "$PROD_LOG" || true)"
  arrived "$tag" "$expected" 30
  sleep 1
  kill -TERM "$tdpid"; wait "$tdpid" 2>/dev/null || true
  stop_copier "$mode" "$run"
  python3 - "$tag" "$PROD_PORT" "$TEST_PORT" "$td" "$PROD_LOG" "$TEST_LOG" "$MEASURE_SECONDS" <<'EOF'
import re, sys
tag, prod_port, test_port, td, prod_log, test_log, seconds = sys.argv[1:]
path = re.compile(r"GET (/p6/" + re.escape(tag) + r"/\S+) HTTP")
head = re.compile(r"^(\d+\.\d+) IP \S+ > \S+\.(\d+): ")
first = {prod_port: {}, test_port: {}}
t, port = None, None
with open(td, errors="replace") as f:
    for line in f:
        m = head.match(line)
        if m:
            t, port = float(m.group(1)), m.group(2)
            continue
        m = path.search(line)
        if m and port in first:
            first[port].setdefault(m.group(1), t)
def arrivals(log):
    out = {}
    with open(log) as f:
        for line in f:
            msec, rtime, uri = line.split()
            if uri.startswith("/p6/" + tag + "/"):
                out.setdefault(uri, float(msec) - float(rtime))
    return out
prod, test = arrivals(prod_log), arrivals(test_log)
def pct(values):
    if not values:
        return ["nan"] * 3
    v = sorted(values)
    at = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return ["%.2f" % at(0.50), "%.2f" % at(0.99), "%.2f" % v[-1]]
pkt = [(first[test_port][p] - first[prod_port][p]) * 1000 for p in first[prod_port] if p in first[test_port]]
req = [(test[u] - prod[u]) * 1000 for u in prod if u in test]
lost = sum(1 for u in prod if u not in test)
print(" ".join(["%.0f" % (len(prod) / float(seconds)), str(lost)] + pct(pkt) + pct(req)))
EOF
}

RESULTS=()
declare -A COL=()
for run in $(seq 1 "$RUNS"); do
  for mode in $MODES; do
    read -r rps lost p50 p99 pmax r50 r99 rmax < <(one_run "$mode" "$run")
    log "run $run $mode: $rps requests/s, $lost lost; per packet p50 $p50 p99 $p99 max $pmax ms; per request p50 $r50 p99 $r99 max $rmax ms (load $(cut -d' ' -f1-3 /proc/loadavg))"
    for k in rps lost p50 p99 pmax r50 r99 rmax; do COL[$mode.$k]+="${!k} "; done
  done
done

med() { printf '%s\n' $1 | median; }
for mode in $MODES; do
  settings="GoReplay 2.0 --input-raw :PORT --output-http (no bus)"
  [ "$mode" != trafficbus ] || settings="forward --batch-window $WINDOW, linger.ms $LINGER_MS; replay --speed 1 --engine socket"
  lost_sum=$(printf '%s\n' ${COL[$mode.lost]} | awk '{s += $1} END {print s + 0}')
  echo "P6 $mode ($settings): $(med "${COL[$mode.rps]}") requests/s reached, $lost_sum lost over $RUNS runs;" \
    "per packet p50 $(med "${COL[$mode.p50]}") p99 $(med "${COL[$mode.p99]}") max $(med "${COL[$mode.pmax]}") ms;" \
    "per request p50 $(med "${COL[$mode.r50]}") p99 $(med "${COL[$mode.r99]}") max $(med "${COL[$mode.rmax]}") ms" \
    "(medians of $RUNS; p99s: ${COL[$mode.p99]})"
done
echo "P6 goal: trafficbus p99 <= $GOAL_P99_MS ms at $RATE requests/s (asked; $CONNECTIONS keep-alive connections, nginx ends each after 100 requests)."
echo "P6 load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (load, both servers, broker, forwarder and replayer share them)"
