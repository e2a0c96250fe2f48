#!/usr/bin/env bash
# P4: the tcp engine. A capture of many short HTTP sessions (one request per connection: ab without -k
# against nginx-light, recorded by tcpdump in a namespace) is published with `forward --pcap`, then
# `replay --engine tcp --speed max --until-end` sends it as raw packets from a fake client range to nginx-light
# in namespace tbp4-test, whose answers go via namespace tbp4-assist (ip_forward=0) where `intercept` relays them.
# Measures requests/s, lost requests (nginx access-log lines vs requests in the capture; goal 0) and the CPU
# seconds of the replayer and of intercept. Needs root.
#
#   sudo bench/p4-tcp.sh
# Environment: P4_REQUESTS (100000), P4_CONCURRENCY (50 ab connections), P4_RUNS (1),
#              P4_MAX_CONNECTIONS (replay --max-connections, 2000)
set -euo pipefail

BENCH=p4
source "$(dirname "$0")/harness.sh"
REQUESTS="${P4_REQUESTS:-100000}"
CONCURRENCY="${P4_CONCURRENCY:-50}"
RUNS="${P4_RUNS:-1}"
MAX_CONNECTIONS="${P4_MAX_CONNECTIONS:-2000}"
PCAP="$OUT/capture.pcap"
CAP_NS=tbp4-cap
TEST_NS=tbp4-test
ASSIST_NS=tbp4-assist
NET=202
RANGE=10.98.0.0/16

[ "$(id -u)" = 0 ] || { log "needs root (namespaces, raw sockets)"; exit 1; }
for tool in nginx ab tcpdump ip ethtool python3; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, apache2-utils, tcpdump, iproute2, ethtool, python3)"; exit 1; }
done

net_down() {
  tcp_net_down tbp4
  ip netns del "$CAP_NS" 2>/dev/null || true
}
bench_cleanup() {
  cleanup
  net_down
}
trap bench_cleanup EXIT

# start_nginx NAME NS: nginx-light in namespace NS logging one line per request into $WORK/nginx-NAME/access.log
start_nginx() {
  local dir="$WORK/nginx-$1"
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 8192; }
http {
  log_format tb '\$remote_addr \$request_uri';
  access_log logs/access.log tb buffer=256k flush=1s;
  client_body_temp_path body_temp;
  keepalive_timeout 60s;
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

# stop_nginx: ends the run's nginx (by PID) so the next run's nginx can bind port 80 and log on its own.
stop_nginx() {
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
}

cpu_seconds() { # pid -> user+system CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# --- build -------------------------------------------------------------------------------------------
cd "$ROOT"
bin/trafficbus replay --help 2>/dev/null | grep -q -- '--engine' \
  || { log "bin/trafficbus replay has no --engine option yet (tcp engine not wired into ReplayCommand)"; exit 1; }
if ! ls capture-forwarder/target/trafficbus-capture-forwarder-*.jar >/dev/null 2>&1 \
    || ! ls standalone/target/trafficbus-standalone-*.jar >/dev/null 2>&1; then
  log "building capture-forwarder and standalone (forward and broker commands)"
  flock /tmp/tb-build.lock mvn -B -q -o -pl capture-forwarder,standalone -am package -DskipTests
fi

net_down

# --- the capture: many short HTTP sessions in a namespace of its own, recorded by tcpdump -----------------
CAPTURE_KEY="requests=$REQUESTS concurrency=$CONCURRENCY"
if [ ! -s "$PCAP" ] || [ "$(cat "$OUT/capture.key" 2>/dev/null)" != "$CAPTURE_KEY" ]; then
  rm -f "$PCAP" "$OUT/capture.key"
  ip netns add "$CAP_NS"
  ip -n "$CAP_NS" link set lo up
  # Many short connections from one client: a wide port range and TIME_WAIT reuse keep ab going.
  ip netns exec "$CAP_NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
  start_nginx capture "$CAP_NS"
  sleep 1
  log "capturing $REQUESTS requests, one per connection (ab -c $CONCURRENCY)"
  ip netns exec "$CAP_NS" tcpdump -i lo -n -s 0 -B 262144 -w "$PCAP.part" "tcp port 80" 2> "$WORK/tcpdump.log" &
  TCPDUMP_PID=$!; PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
  timeout 900 ip netns exec "$CAP_NS" ab -q -c "$CONCURRENCY" -n "$REQUESTS" "http://127.0.0.1/p4?x=1" > "$WORK/ab.log" 2>&1 \
    || { log "ab failed:"; tail -5 "$WORK/ab.log" >&2; exit 1; }
  sleep 1
  kill -INT "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" 2>/dev/null || true
  grep -E 'packets (captured|received|dropped)' "$WORK/tcpdump.log" | sed 's/^/p4: tcpdump: /' >&2
  grep -E '^(Complete requests|Failed requests|Requests per second)' "$WORK/ab.log" | sed 's/^/p4: ab: /' >&2
  mv "$PCAP.part" "$PCAP"
  echo "$CAPTURE_KEY" > "$OUT/capture.key"
  ip netns del "$CAP_NS"
fi
EXPECTED="$(tcpdump -nr "$PCAP" 'tcp dst port 80 and (tcp[tcpflags] & tcp-push != 0)' 2>/dev/null | wc -l)"
log "capture: $PCAP ($(stat -c %s "$PCAP") bytes, $EXPECTED requests)"

# --- three hosts: replayer (this namespace), test server, assistant ----------------------------------------
tcp_net_up tbp4

start_broker
"$ROOT/bin/trafficbus" forward --pcap "$PCAP" --port 80 --source p4 --bootstrap-servers "$BOOTSTRAP" \
  > "$WORK/forward.log" 2>&1 || { log "forward failed:"; cat "$WORK/forward.log" >&2; exit 1; }
sed 's/^/p4: /' "$WORK/forward.log" >&2

head -c 24 /dev/urandom | base64 > "$WORK/token"
ip netns exec "$ASSIST_NS" "$ROOT/bin/trafficbus" intercept --interface tbp4-b2 --filter 'tcp and src port 80' \
  --listen "$INTERCEPT_IP:36524" --token-file "$WORK/token" > "$WORK/intercept.log" 2>&1 &
INTERCEPT_PID=$!; PIDS+=("$INTERCEPT_PID")
for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/$INTERCEPT_IP/36524") 2>/dev/null && break; sleep 0.2; done

# --- replay runs -------------------------------------------------------------------------------------------
RESULTS=()
for i in $(seq 1 "$RUNS"); do
  start_nginx "target$i" "$TEST_NS"
  sleep 1
  report="$OUT/replay-run$i.json"
  icpu0="$(cpu_seconds "$INTERCEPT_PID")"
  /usr/bin/env time -f '%U %S' -o "$WORK/replay$i.time" "$ROOT/bin/trafficbus" replay --engine tcp \
      --topic tb.capture.p4 --target "$TEST_IP:80" --client-range "$RANGE" --intercept "$INTERCEPT_IP:36524" \
      --token-file "$WORK/token" --instance "$i" --bootstrap-servers "$BOOTSTRAP" --speed max --until-end \
      --group "p4-run$i-$$" --max-connections "$MAX_CONNECTIONS" --report "$report" \
      > "$WORK/replay$i.out" 2> "$WORK/replay$i.err" \
    || log "replay run $i exit $? (see below)"
  icpu1="$(cpu_seconds "$INTERCEPT_PID")"
  sed 's/^/p4: run '"$i"': /' "$WORK/replay$i.out" >&2
  tail -3 "$WORK/replay$i.err" | sed 's/^/p4: run '"$i"' stderr: /' >&2
  sleep 2 # nginx flushes its access log buffer every second
  logged="$(wc -l < "$WORK/nginx-target$i/logs/access.log")"
  stop_nginx
  read -r ru rs < "$WORK/replay$i.time"
  RESULTS+=("$(python3 - "$report" "$EXPECTED" "$logged" "$ru" "$rs" "$icpu0" "$icpu1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
expected, logged = int(sys.argv[2]), int(sys.argv[3])
rcpu = float(sys.argv[4]) + float(sys.argv[5])
icpu = float(sys.argv[7]) - float(sys.argv[6])
secs = r["seconds"]
print(f'{logged / secs:.0f} req/s, lost {expected - logged} of {expected}, replayer CPU {rcpu:.1f} s, '
      f'intercept CPU {icpu:.1f} s, {secs:.1f} s wall; sessions {r["sessions"]}; problems {r["problems"]}')
PY
)")
done
for i in "${!RESULTS[@]}"; do
  echo "P4 run $((i + 1)): ${RESULTS[$i]}"
done
echo "P4 capture: $EXPECTED requests in as many short sessions; rate = requests logged by nginx / whole run time (start-up included)"
