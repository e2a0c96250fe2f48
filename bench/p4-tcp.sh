#!/usr/bin/env bash
# P4: the tcp engine beside tcpcopy. Two captures are made once with real tools (tcpdump in a namespace of its own):
# many short HTTP sessions (ab without -k against nginx-light, one request per connection) and keep-alive sessions
# (ab -k, nginx ending each connection after P4_PER_SESSION requests). Each is published with `forward --pcap` and
# replayed, interleaved with the reference, into nginx-light in namespace P-test, whose answers go via namespace
# P-assist (ip_forward=0) where an intercept relays them:
#   tcp engine: `replay --engine tcp --speed max --until-end`, the project's `intercept` on P-assist;
#   reference:  tcpcopy 1.3 offline `-a 1` from the same pcap, tcpcopy's intercept 1.0 on P-assist.
# Every run gets fresh namespaces and a fresh nginx, so no TIME_WAIT or log of an earlier run is seen by the next. A
# warm-up run of each Java tool comes first (printed, not in the medians): a fresh build's first run makes its class
# archive.
# Measures per run: requests/s (requests nginx logged / time from the first logged request to the last; also from
# the replayer's start), lost requests (requests in the capture − requests logged; goal 0), CPU seconds of the
# replayer and of its intercept, and CPU µs per logged request. tcpcopy idles 120 s after its pcap ends: it is stopped
# with SIGINT once nginx has logged every request or nothing for P4_SETTLE seconds. Prints medians (tcpcopy's of its
# runs that lost nothing, when it has any: a run that lost requests did less work) and the ratios
# with the load (uptime) of every run. Needs root.
#
#   sudo bench/p4-tcp.sh
# Environment: P4_SESSIONS (55000 short sessions), P4_KEEPALIVE_REQUESTS (100000), P4_PER_SESSION (10),
#   P4_CONCURRENCY (50 ab connections), P4_RUNS (3), P4_CAPTURES ("short keepalive"), P4_TOOLS ("tcp tcpcopy"),
#   P4_MAX_CONNECTIONS (replay --max-connections, 2000), P4_SETTLE (10 s), P4_PREFIX (names of namespaces and
#   links, tbp4), P4_NET (second octet of the links' addresses, 202), TRAFFICBUS_PEERS (where tcpcopy and
#   intercept are, /opt/trafficbus-peers; built by ../shared/peers/build.sh when missing),
#   P4_REPLAY_JAVA_OPTS / P4_INTERCEPT_JAVA_OPTS (JAVA_OPTS of replay / intercept, e.g. a JFR recording),
#   P4_BASE_ROOT (another checkout, built: the tool tcp-base in P4_TOOLS runs its replay and intercept the same
#   way, e.g. P4_TOOLS="tcp tcp-base tcpcopy" measures a change beside the code before it).
set -euo pipefail

BENCH=p4
source "$(dirname "$0")/harness.sh"
SESSIONS="${P4_SESSIONS:-55000}"
KEEPALIVE_REQUESTS="${P4_KEEPALIVE_REQUESTS:-100000}"
PER_SESSION="${P4_PER_SESSION:-10}"
CONCURRENCY="${P4_CONCURRENCY:-50}"
RUNS="${P4_RUNS:-3}"
CAPTURES="${P4_CAPTURES:-short keepalive}"
TOOLS="${P4_TOOLS:-tcp tcpcopy}"
MAX_CONNECTIONS="${P4_MAX_CONNECTIONS:-2000}"
SETTLE="${P4_SETTLE:-10}"
P="${P4_PREFIX:-tbp4}"
NET="${P4_NET:-202}"
PEERS="${TRAFFICBUS_PEERS:-/opt/trafficbus-peers}"
CAP_NS="$P-cap"
TEST_NS="$P-test"
ASSIST_NS="$P-assist"
RANGE=10.98.0.0/16
TCPCOPY_CLIENTS=10.98.0.x

[ "$(id -u)" = 0 ] || { log "needs root (namespaces, raw sockets)"; exit 1; }
for tool in nginx ab tcpdump ip ethtool python3; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, apache2-utils, tcpdump, iproute2, ethtool, python3)"; exit 1; }
done

net_down() {
  tcp_net_down "$P"
  ip netns del "$CAP_NS" 2>/dev/null || true
}
bench_cleanup() {
  cleanup
  net_down
}
trap bench_cleanup EXIT

# p4_nginx NAME NS KEEPALIVE_REQUESTS: nginx-light on port 80 in namespace NS logging "msec address uri" per request
# into $WORK/nginx-NAME/access.log; sets NGINX_PID
p4_nginx() {
  local dir="$WORK/nginx-$1"
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 8192; }
http {
  log_format tb '\$msec \$remote_addr \$request_uri';
  access_log logs/access.log tb buffer=256k flush=1s;
  client_body_temp_path body_temp;
  keepalive_timeout 60s;
  keepalive_requests $3;
  server {
    listen 80 backlog=8192;
    default_type text/plain;
    location / { return 200 "ok\n"; }
  }
}
EOF
  ip netns exec "$2" nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
}

stop_pid() { # pid [signal]: ends one process this script started (KILL after 15 s) and waits for it
  local n
  kill "-${2:-TERM}" "$1" 2>/dev/null || true
  for n in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null && log "pid $1 ignored SIG${2:-TERM}: killed"
  wait "$1" 2>/dev/null || true
}

cpu_seconds() { # pid -> user+system CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

logged_requests() { # nginx name -> lines in its access log so far
  wc -l < "$WORK/nginx-$1/logs/access.log" 2>/dev/null || echo 0
}

# --- build -------------------------------------------------------------------------------------------
build_replay_jars
[ -d intercept/target/lib ] || flock /tmp/tb-build.lock mvn -B -q -o -pl intercept -am package -DskipTests
if [[ " $TOOLS " == *" tcpcopy "* ]] && { [ ! -x "$PEERS/bin/tcpcopy" ] || [ ! -x "$PEERS/bin/intercept" ]; }; then
  log "building tcpcopy and intercept into $PEERS (../shared/peers/build.sh)"
  "$ROOT/../shared/peers/build.sh" "$PEERS" >&2
fi

net_down

# --- the captures: made once in a namespace of their own, recorded by tcpdump -------------------------------------
# make_capture NAME REQUESTS KEEPALIVE(0|1): $OUT/NAME.pcap of ab against nginx on 127.0.0.1:80
make_capture() {
  local name="$1" requests="$2" keepalive="$3" pcap="$OUT/$1.pcap" key tcpdump_pid ab_k=""
  key="requests=$requests keepalive=$keepalive per-session=$PER_SESSION concurrency=$CONCURRENCY"
  [ -s "$pcap" ] && [ "$(cat "$OUT/$name.key" 2>/dev/null)" = "$key" ] && return 0
  rm -f "$pcap" "$OUT/$name.key"
  ip netns add "$CAP_NS"
  ip -n "$CAP_NS" link set lo up
  # Many short connections from one client: a wide port range and TIME_WAIT reuse keep ab going.
  ip netns exec "$CAP_NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
  p4_nginx "capture-$name" "$CAP_NS" "$PER_SESSION"
  sleep 1
  [ "$keepalive" = 1 ] && ab_k=-k
  log "capturing $requests requests (ab $ab_k -c $CONCURRENCY$([ "$keepalive" = 1 ] && echo ", $PER_SESSION per connection"))"
  ip netns exec "$CAP_NS" tcpdump -i lo -n -s 0 -B 262144 -w "$pcap.part" "tcp port 80" 2> "$WORK/tcpdump.log" &
  tcpdump_pid=$!; PIDS+=("$tcpdump_pid")
  for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
  timeout 900 ip netns exec "$CAP_NS" ab -q $ab_k -c "$CONCURRENCY" -n "$requests" "http://127.0.0.1/p4?x=1" > "$WORK/ab.log" 2>&1 \
    || { log "ab failed:"; tail -5 "$WORK/ab.log" >&2; exit 1; }
  sleep 1
  stop_pid "$tcpdump_pid" INT
  stop_pid "$NGINX_PID"
  grep -E 'packets (captured|received|dropped)' "$WORK/tcpdump.log" | sed "s/^/p4: $name: tcpdump: /" >&2
  grep -E '^(Complete requests|Failed requests|Requests per second)' "$WORK/ab.log" | sed "s/^/p4: $name: ab: /" >&2
  mv "$pcap.part" "$pcap"
  echo "$key" > "$OUT/$name.key"
  ip netns del "$CAP_NS"
}

declare -A EXPECTED
for c in $CAPTURES; do
  case "$c" in
    short) make_capture short "$SESSIONS" 0 ;;
    keepalive) make_capture keepalive "$KEEPALIVE_REQUESTS" 1 ;;
    *) log "unknown capture $c in P4_CAPTURES (short, keepalive)"; exit 2 ;;
  esac
  EXPECTED[$c]="$(tcpdump -nr "$OUT/$c.pcap" 'tcp dst port 80 and (tcp[tcpflags] & tcp-push != 0)' 2>/dev/null | wc -l)"
  log "capture $c: $OUT/$c.pcap ($(stat -c %s "$OUT/$c.pcap") bytes, ${EXPECTED[$c]} requests)"
done

start_broker
for c in $CAPTURES; do
  publish_pcap "$OUT/$c.pcap" 80 "p4$c"
  sed "s/^/p4: forward $c: /" "$WORK/forward.log" >&2
done
head -c 24 /dev/urandom | base64 > "$WORK/token"

# wait_listen ADDR PORT SECONDS: until something accepts on ADDR:PORT (from this namespace)
wait_listen() { wait_port "$2" "$3" "$1"; }

# run_tcp CAPTURE RUN [CHECKOUT TOOL]: one tcp-engine run of this checkout's (or CHECKOUT's) replay and intercept;
# writes "start user-cpu system-cpu intercept-cpu" to $WORK/run.out
run_tcp() {
  local c="$1" i="$2" root="${3:-$ROOT}" n="${4:-tcp}-$1-$2" intercept_pid icpu0 icpu1 t0
  local report="$OUT/replay-${4:-tcp}-$1-run$2.json"
  JAVA_OPTS="${P4_INTERCEPT_JAVA_OPTS:-}" ip netns exec "$ASSIST_NS" "$root/bin/trafficbus" intercept \
    --interface "$P-b2" --filter 'tcp and src port 80' --listen "$INTERCEPT_IP:36524" --token-file "$WORK/token" \
    > "$WORK/intercept-$n.log" 2>&1 &
  intercept_pid=$!; PIDS+=("$intercept_pid")
  wait_listen "$INTERCEPT_IP" 36524 60 >&2
  icpu0="$(cpu_seconds "$intercept_pid")"
  t0="$(date +%s.%N)"
  JAVA_OPTS="${P4_REPLAY_JAVA_OPTS:-}" /usr/bin/env time -f '%U %S' -o "$WORK/replay-$n.time" "$root/bin/trafficbus" \
      replay --engine tcp --topic "tb.capture.p4$c" --target "$TEST_IP:80" --client-range "$RANGE" \
      --intercept "$INTERCEPT_IP:36524" --token-file "$WORK/token" --instance "$i" --bootstrap-servers "$BOOTSTRAP" \
      --speed max --until-end --group "p4-$n-$$" --max-connections "$MAX_CONNECTIONS" --report "$report" \
      > "$WORK/replay-$n.out" 2> "$WORK/replay-$n.err" || log "$n: replay exit $? ($(tail -1 "$WORK/replay-$n.err"))"
  icpu1="$(cpu_seconds "$intercept_pid")"
  sed "s/^/p4: $n: /" "$WORK/replay-$n.out" >&2
  stop_pid "$intercept_pid" # TERM: a JVM started in the background of a script keeps SIGINT ignored
  tail -2 "$WORK/intercept-$n.log" | sed "s/^/p4: $n: intercept: /" >&2
  sleep 2 # nginx flushes its access log every second
  read -r ru rs < "$WORK/replay-$n.time"
  echo "$t0 $ru $rs $(python3 -c "print($icpu1 - $icpu0)")" > "$WORK/run.out"
}

# run_tcpcopy CAPTURE RUN: one tcpcopy run; writes "start user-cpu system-cpu intercept-cpu" to $WORK/run.out
run_tcpcopy() {
  local c="$1" i="$2" n="tcpcopy-$1-$2" intercept_pid tcpcopy_pid icpu0 icpu1 t0 last=-1 now still=0 expected ru rs
  expected="${EXPECTED[$c]}"
  ip netns exec "$ASSIST_NS" "$PEERS/bin/intercept" -i "$P-b2" -F 'tcp and src port 80' -p 36525 \
    -l "$WORK/intercept-$n.log" > "$WORK/intercept-$n.out" 2>&1 &
  intercept_pid=$!; PIDS+=("$intercept_pid")
  wait_listen "$INTERCEPT_IP" 36525 30 >&2
  icpu0="$(cpu_seconds "$intercept_pid")"
  t0="$(date +%s.%N)"
  "$PEERS/bin/tcpcopy" -x "80-$TEST_IP:80" -s "$INTERCEPT_IP:36525" -c "$TCPCOPY_CLIENTS" -i "$OUT/$c.pcap" -a 1 \
    -l "$WORK/$n.log" > "$WORK/$n.out" 2>&1 &
  tcpcopy_pid=$!; PIDS+=("$tcpcopy_pid")
  # Done when nginx logged every request, or nothing new for $SETTLE s (its log is flushed every second).
  while kill -0 "$tcpcopy_pid" 2>/dev/null; do
    sleep 1
    now="$(logged_requests "target-$n")"
    if [ "$now" -ge "$expected" ]; then sleep 1; break; fi
    if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; last="$now"; fi
    [ "$still" -lt "$SETTLE" ] || break
  done
  read -r ru rs < <(awk -v hz="$(getconf CLK_TCK)" '{ print $14 / hz, $15 / hz }' "/proc/$tcpcopy_pid/stat")
  icpu1="$(cpu_seconds "$intercept_pid")"
  stop_pid "$tcpcopy_pid" INT
  stop_pid "$intercept_pid" INT
  grep -E 'conns:|send syn:|retransmit:|many connections|msg send error' "$WORK/$n.log" | sed 's/^[^]]*\] //' | sort | uniq -c \
    | sed "s/^/p4: $n: tcpcopy: /" >&2
  sleep 2
  echo "$t0 $ru $rs $(python3 -c "print($icpu1 - $icpu0)")" > "$WORK/run.out"
}

# one_run TOOL CAPTURE RUN RESULTS: one run of TOOL on CAPTURE in fresh namespaces and a fresh nginx; appends its
# figures to RESULTS and prints them
one_run() {
  local t="$1" c="$2" i="$3" load
  tcp_net_up "$P"
  load="$(uptime | sed 's/.*load average: //')"
  p4_nginx "target-$t-$c-$i" "$TEST_NS" 1000000
  wait_listen "$TEST_IP" 80 20
  case "$t" in
    tcp) run_tcp "$c" "$i" ;;
    tcp-base) run_tcp "$c" "$i" "${P4_BASE_ROOT:?tcp-base needs P4_BASE_ROOT, a built checkout}" tcp-base ;;
    tcpcopy) run_tcpcopy "$c" "$i" ;;
    *) log "unknown tool $t in P4_TOOLS (tcp, tcp-base, tcpcopy)"; exit 2 ;;
  esac
  stop_pid "$NGINX_PID"
  tcp_net_down "$P"
  read -r t0 ru rs icpu < "$WORK/run.out"
  python3 - "$WORK/nginx-target-$t-$c-$i/logs/access.log" "${EXPECTED[$c]}" "$t0" "$ru" "$rs" "$icpu" \
      "$t" "$c" "$i" "$load" "$4" <<'PY'
import json, sys
log, expected, t0, ru, rs, icpu, tool, cap, run, load, results = sys.argv[1:]
ts = [float(l.split()[0]) for l in open(log) if l.strip()]
n = len(ts)
window = (max(ts) - min(ts)) if n > 1 else float('nan')
since_start = (max(ts) - float(t0)) if n else float('nan')
rcpu, icpu = float(ru) + float(rs), float(icpu)
r = dict(tool=tool, capture=cap, run=int(run), load=load, logged=n, lost=int(expected) - n,
         rate=n / window if n > 1 else 0, rate_from_start=n / since_start if n else 0, seconds=since_start,
         replayer_cpu=rcpu, intercept_cpu=icpu, cpu_us_per_request=(rcpu + icpu) * 1e6 / n if n else float('nan'))
with open(results, 'a') as f:
    f.write(json.dumps(r) + '\n')
label = f"run {run}" if int(run) > 0 else "warm-up run (a fresh build makes its class archive; not in the medians)"
print(f"P4 {cap} {label} {tool}: {r['rate']:.0f} req/s ({r['rate_from_start']:.0f} from start, {since_start:.1f} s), "
      f"lost {r['lost']}, CPU replayer {rcpu:.2f} s + intercept {icpu:.2f} s = {r['cpu_us_per_request']:.0f} us/request; "
      f"load {load}")
PY
}

# --- a warm-up run of each Java tool: the first run of a fresh build makes its class archive (bin/trafficbus), a
# cost paid once per build or install and JDK, not per replay; it is printed and kept out of the medians ----------
first_capture="${CAPTURES%% *}"
for t in $TOOLS; do
  case "$t" in tcp|tcp-base) one_run "$t" "$first_capture" 0 "$WORK/warmup" ;; esac
done

# --- interleaved runs: for each run, each capture, each tool (the order of the tools alternates) -------------------
: > "$WORK/results"
for i in $(seq 1 "$RUNS"); do
  for c in $CAPTURES; do
    order="$TOOLS"
    [ $((i % 2)) = 0 ] && order="$(echo "$TOOLS" | tr ' ' '\n' | tac | tr '\n' ' ')"
    for t in $order; do
      one_run "$t" "$c" "$i" "$WORK/results"
    done
  done
done

cp "$WORK/results" "$OUT/results.jsonl"
python3 - "$WORK/results" "$TOOLS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
tools = sys.argv[2].split()
med = lambda xs: statistics.median(xs) if xs else float('nan')
for cap in dict.fromkeys(r["capture"] for r in rows):
    m = {}
    for t in tools:
        rs = [r for r in rows if r["capture"] == cap and r["tool"] == t]
        if not rs:
            continue
        # A reference run that lost requests did less work in less time: its rate and CPU per request are not
        # the reference's. Its figures are the medians of its whole runs when it has any (the losses stay shown).
        whole = [r for r in rs if r["lost"] == 0] if t == "tcpcopy" else rs
        used = whole or rs
        m[t] = {k: med([r[k] for r in used]) for k in ("rate", "rate_from_start", "lost", "replayer_cpu",
                                                        "intercept_cpu", "cpu_us_per_request")}
        m[t]["lost_all"] = [r["lost"] for r in rs]
        x = m[t]
        of = f"{len(used)} whole runs of {len(rs)}" if len(used) < len(rs) else f"{len(rs)}"
        print(f"P4 {cap} {t} median of {of}: {x['rate']:.0f} req/s ({x['rate_from_start']:.0f} from start), "
              f"lost {x['lost_all']}, CPU {x['replayer_cpu']:.2f} + {x['intercept_cpu']:.2f} s, "
              f"{x['cpu_us_per_request']:.0f} us/request")
    if "tcp" in m and "tcp-base" in m:
        a, b = m["tcp"], m["tcp-base"]
        print(f"P4 {cap} ratio tcp/tcp-base: requests/s {a['rate'] / b['rate']:.2f}, CPU per request "
              f"{a['cpu_us_per_request'] / b['cpu_us_per_request']:.2f}")
    if "tcp" in m and "tcpcopy" in m:
        a, b = m["tcp"], m["tcpcopy"]
        rate_ok = a["rate"] >= b["rate"]
        cpu_ok = a["cpu_us_per_request"] <= 1.5 * b["cpu_us_per_request"]
        lost_ok = max(a["lost_all"]) == 0
        print(f"P4 {cap} ratio tcp/tcpcopy: requests/s {a['rate'] / b['rate']:.2f} (goal >= 1.0, "
              f"from start {a['rate_from_start'] / b['rate_from_start']:.2f}), CPU per request "
              f"{a['cpu_us_per_request'] / b['cpu_us_per_request']:.2f} (goal <= 1.5), tcp engine lost "
              f"{max(a['lost_all'])} (goal 0): {'met' if rate_ok and cpu_ok and lost_ok else 'NOT met'}")
PY
echo "P4 rate = requests nginx logged / time from its first logged request to its last; 'from start' counts from the replayer's start; CPU = user + system of the replayer process and of its intercept during the run; load = uptime before each run"
