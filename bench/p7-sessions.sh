#!/usr/bin/env bash
# P7: replayer memory per open session. A capture of N long-lived keep-alive sessions (N real client
# connections to nginx-light on loopback, each sending one request, waiting P7_HOLD seconds with the connection
# open, sending a second request and closing; recorded by tcpdump) is published with `forward --pcap`, then
# `replay --speed 1 --until-end` sends it to another nginx-light, so every session holds its connection open
# while it waits for its second message. The replayer's VmRSS is sampled while all N connections are open
# (the plateau), for N = P7_SMALL and N = P7_LARGE. Goal: RSS ≤ 100 MB + 50 MB per 10,000 open sessions.
#
#   bench/p7-sessions.sh        # makes bench/out/p7/capture-N.pcap once per N, then measures
# Environment: P7_SMALL (100), P7_LARGE (10000), P7_HOLD (15 s between a session's two requests), P7_RUNS (3),
#              P7_REPLAY_JAVA_OPTS (JVM options of the replayer only), P7_REPLAY_ARGS (more `replay` options, e.g.
#              --kafka-property KEY=VALUE, split on spaces)
set -euo pipefail

BENCH=p7
source "$(dirname "$0")/harness.sh"
SMALL="${P7_SMALL:-100}"
LARGE="${P7_LARGE:-10000}"
HOLD="${P7_HOLD:-15}"
RUNS="${P7_RUNS:-3}"

for tool in nginx tcpdump python3 ss; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, tcpdump, python3, iproute2)"; exit 1; }
done
[ "$(ulimit -n)" -ge $((LARGE + 1000)) ] || ulimit -n $((LARGE + 1000)) 2>/dev/null \
  || { log "needs ulimit -n ≥ $((LARGE + 1000)) for $LARGE connections (now $(ulimit -n))"; exit 1; }

build_replay_jars

# many_nginx NAME PORT: nginx-light as in start_nginx, but with room for LARGE connections that stay open.
many_nginx() {
  local dir="$WORK/nginx-$1"
  mkdir -p "$dir"
  sed -e "s/@ADDR@/127.0.0.1/" -e "s/@PORT@/$2/" -e "s/@LISTEN_TLS@//" -e "s/@TLS_FILES@//" -e "s/@KEEPALIVE_REQUESTS@/1000/" -e 's|@BODY@|ok\\n|' \
      -e "s/worker_connections 4096;/worker_connections $((LARGE * 2 + 100));/" \
      -e "s/backlog=4096/backlog=65535/" -e "s/^worker_processes 1;/worker_processes 1;\nworker_rlimit_nofile $((LARGE * 2 + 200));/" \
      "$ROOT/bench/p5-nginx.conf" > "$dir/nginx.conf"
  nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/stdout.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$2" 20
}

# capture N: bench/out/p7/capture-N.pcap (made once), its service port in capture-N.port
capture() {
  local n="$1" pcap="$OUT/capture-$1.pcap" port
  local key="sessions=$n hold=$HOLD"
  if [ -s "$pcap" ] && [ "$(cat "$OUT/capture-$n.key" 2>/dev/null)" = "$key" ]; then
    return
  fi
  port="$(free_port)"
  many_nginx "capture-$n" "$port"
  log "capturing $n sessions held open $HOLD s on 127.0.0.1:$port"
  tcpdump -i lo -n -s 0 -B 262144 -w "$pcap.part" "tcp port $port" 2> "$WORK/tcpdump-$n.log" &
  local tcpdump_pid=$!; PIDS+=("$tcpdump_pid")
  for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/tcpdump-$n.log" && break; sleep 0.1; done
  timeout $((HOLD + 120)) python3 - "$port" "$n" "$HOLD" <<'PY'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
req = b"GET /api/items?page=1 HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n"
def ask(s):
    s.sendall(req)
    got = b""
    while not (b"\r\n\r\n" in got and got.endswith(b"ok\n")):
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("p7: the server closed a session early")
        got += chunk
socks = []
start = time.monotonic()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    ask(s)
    socks.append(s)
time.sleep(max(0.0, start + hold - time.monotonic()))
for s in socks:
    ask(s)
    s.close()
PY
  sleep 1
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" 2>/dev/null || true
  grep -E 'packets (captured|dropped)' "$WORK/tcpdump-$n.log" | sed "s/^/p7: tcpdump ($n): /" >&2
  mv "$pcap.part" "$pcap"
  echo "$port" > "$OUT/capture-$n.port"
  echo "$key" > "$OUT/capture-$n.key"
}

capture "$SMALL"
capture "$LARGE"
start_broker
for n in "$SMALL" "$LARGE"; do
  publish_pcap "$OUT/capture-$n.pcap" "$(cat "$OUT/capture-$n.port")" "p7n$n"
  grep -E 'published|summary' "$WORK/forward.log" | sed "s/^/p7: forward ($n): /" >&2 || true
done
TARGET_PORT="$(free_port)"
many_nginx target "$TARGET_PORT"

# replay N RUN: prints the replayer's VmRSS in MB at the plateau (max while ≥ 99 % of N connections are open)
replay() {
  local n="$1" i="$2" report="$OUT/replay-$1-run$2.json"
  # shellcheck disable=SC2086 # P7_REPLAY_ARGS is split on spaces on purpose
  JAVA_OPTS="${P7_REPLAY_JAVA_OPTS:-${JAVA_OPTS:-}}" "$ROOT/bin/trafficbus" replay --topic "tb.capture.p7n$n" \
      --target "127.0.0.1:$TARGET_PORT" --bootstrap-servers "$BOOTSTRAP" --speed 1 --until-end \
      --group "p7-$n-run$i-$$" --max-connections $((n + 100)) --report "$report" ${P7_REPLAY_ARGS:-} \
      > "$WORK/replay-$n-$i.out" 2> "$WORK/replay-$n-$i.err" &
  local pid=$!; PIDS+=("$pid")
  local best=0 open rss deadline=$((SECONDS + HOLD + 90))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    open="$(ss -Htn state established "( dport = :$TARGET_PORT )" 2>/dev/null | wc -l)"
    rss="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
    if [ "$open" -ge $((n * 99 / 100)) ] && [ "${rss:-0}" -gt "$best" ]; then best="$rss"; fi
    sleep 0.5
  done
  wait "$pid" || { log "replay of $n sessions, run $i failed:"; cat "$WORK/replay-$n-$i.out" "$WORK/replay-$n-$i.err" >&2; exit 1; }
  python3 - "$report" "$n" >&2 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, m = r["sessions"], r["messages"]
if s["failed"] or m["answered"] != m["sent"] or m["sent"] != 2 * int(sys.argv[2]):
    print(f'p7: warning: {s["failed"]} sessions failed, {m["answered"]} of {m["sent"]} requests answered', file=sys.stderr)
PY
  [ "$best" -gt 0 ] || { log "replay of $n sessions never held $((n * 99 / 100)) connections open at once"; exit 1; }
  echo $((best / 1024))
}

SMALL_RSS=(); LARGE_RSS=()
for i in $(seq 1 "$RUNS"); do
  SMALL_RSS+=("$(replay "$SMALL" "$i")"); log "run $i: $SMALL sessions open: ${SMALL_RSS[-1]} MB ($(uptime | sed 's/.*load/load/'))"
  LARGE_RSS+=("$(replay "$LARGE" "$i")"); log "run $i: $LARGE sessions open: ${LARGE_RSS[-1]} MB ($(uptime | sed 's/.*load/load/'))"
done
S="$(printf '%s\n' "${SMALL_RSS[@]}" | median)"
L="$(printf '%s\n' "${LARGE_RSS[@]}" | median)"
echo "P7 replayer VmRSS with $SMALL sessions open: median $S MB (runs: ${SMALL_RSS[*]})"
echo "P7 replayer VmRSS with $LARGE sessions open: median $L MB (runs: ${LARGE_RSS[*]})"
awk -v s="$S" -v l="$L" -v ns="$SMALL" -v nl="$LARGE" 'BEGIN {
  per = (l - s) / (nl - ns) * 10000
  goal = 100 + 50 * nl / 10000
  printf "P7 per 10,000 open sessions: %.0f MB; goal at %d sessions: %.0f MB, measured %.0f MB, ratio %.2f %s\n",
    per, nl, goal, l, l / goal, (l <= goal && s <= 100 + 50 * ns / 10000 ? "OK" : "ABOVE GOAL") }'
