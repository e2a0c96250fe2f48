# Sourced by the bench scripts: a work directory and process list cleaned up on exit, and the small
# shell pieces every bench needs (free port, wait for a port, median, a real broker).
# Before sourcing set BENCH (the script's short name, for log lines and bench/out/<BENCH>).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out/$BENCH"
mkdir -p "$OUT"
WORK="$(mktemp -d "$OUT/run.XXXXXX")"
PIDS=()

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$BENCH: $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port seconds [host, default 127.0.0.1]
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/${3:-127.0.0.1}/$1") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { log "nothing listens on $1 after $2 s"; return 1; }
    sleep 0.2
  done
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# start_broker: a real single-node KRaft broker (`trafficbus broker`) with its data under $WORK; sets BOOTSTRAP.
start_broker() {
  local port
  port="$(free_port)"
  JAVA_OPTS="${BROKER_JAVA_OPTS:--Xms1g -Xmx1g}" "$ROOT/bin/trafficbus" broker --listen "127.0.0.1:$port" \
    --data-dir "$WORK/data" > "$WORK/broker.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$port" 90
  BOOTSTRAP="127.0.0.1:$port"
  log "broker on $BOOTSTRAP"
}

# start_nginx NAME PORT KEEPALIVE_REQUESTS [BODY [CERT KEY]]: a foreground nginx-light (bench/p5-nginx.conf) with its
# own prefix under $WORK, answering BODY to every path (default ok and a newline; nginx reads \n in it as a newline),
# on $NGINX_ADDR (default 127.0.0.1) in namespace $NGINX_NS (default this one), over TLS with the PEM files CERT and
# KEY when they are given.
start_nginx() {
  local dir="$WORK/nginx-$1" body="${4:-ok\\\\n}" addr="${NGINX_ADDR:-127.0.0.1}" listen_tls="" tls_files=""
  if [ -n "${5:-}" ]; then
    listen_tls=" ssl"
    tls_files="ssl_certificate $5; ssl_certificate_key $6;"
  fi
  mkdir -p "$dir"
  sed -e "s/@ADDR@/$addr/" -e "s/@PORT@/$2/" -e "s/@KEEPALIVE_REQUESTS@/$3/" -e "s|@BODY@|$body|" \
    -e "s|@LISTEN_TLS@|$listen_tls|" -e "s|@TLS_FILES@|$tls_files|" "$ROOT/bench/p5-nginx.conf" > "$dir/nginx.conf"
  if [ -n "${NGINX_NS:-}" ]; then
    ip netns exec "$NGINX_NS" nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/stdout.log" 2>&1 &
  else
    nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/stdout.log" 2>&1 &
  fi
  PIDS+=("$!")
  wait_port "$2" 20 "$addr"
}

# keep_capture PCAP PORT KEY: the capture just written to PCAP.part becomes PCAP, remembered with its service port
# and the settings KEY it was made with (a later run with other settings makes it again)
keep_capture() {
  mv "$1.part" "$1"
  echo "$2" > "$OUT/capture.port"
  echo "$3" > "$OUT/capture.key"
}

# publish_pcap PCAP PORT SOURCE: `forward --pcap` of the service port into tb.capture.SOURCE on $BOOTSTRAP
publish_pcap() {
  "$ROOT/bin/trafficbus" forward --pcap "$1" --port "$2" --source "$3" --bootstrap-servers "$BOOTSTRAP" \
    > "$WORK/forward.log" 2>&1 || { log "forward failed:"; cat "$WORK/forward.log" >&2; exit 1; }
}

# tcp_net_up P: three hosts for the tcp engine, named P-test and P-assist, with links P-a0/P-a1 (replayer
# 10.$NET.1.1 to test $TEST_IP = 10.$NET.1.2), P-b1/P-b2 (test 10.$NET.2.2 to assist 10.$NET.2.3) and P-c0/P-c2
# (replayer 10.$NET.3.1 to the intercept address $INTERCEPT_IP = 10.$NET.3.3); the test host routes the fake
# client range $RANGE via the assistant, which does not forward. Set NET and RANGE first; tcp_net_down P undoes it.
tcp_net_up() {
  local p=$1 test="$1-test" assist="$1-assist"
  TEST_IP="10.$NET.1.2"
  INTERCEPT_IP="10.$NET.3.3"
  ip netns add "$test"
  ip netns add "$assist"
  ip link add "$p-a0" type veth peer name "$p-a1"
  ip link add "$p-b1" type veth peer name "$p-b2"
  ip link add "$p-c0" type veth peer name "$p-c2"
  ip link set "$p-a1" netns "$test"; ip link set "$p-b1" netns "$test"
  ip link set "$p-b2" netns "$assist"; ip link set "$p-c2" netns "$assist"
  ip addr add "10.$NET.1.1/24" dev "$p-a0"; ip link set "$p-a0" up
  ip addr add "10.$NET.3.1/24" dev "$p-c0"; ip link set "$p-c0" up
  ip -n "$test" addr add "$TEST_IP/24" dev "$p-a1"
  ip -n "$test" addr add "10.$NET.2.2/24" dev "$p-b1"
  ip -n "$assist" addr add "10.$NET.2.3/24" dev "$p-b2"
  ip -n "$assist" addr add "$INTERCEPT_IP/24" dev "$p-c2"
  local nl
  for nl in "$test $p-a1" "$test $p-b1" "$assist $p-b2" "$assist $p-c2"; do
    set -- $nl
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
  done
  ip -n "$test" link set lo up
  ip -n "$assist" link set lo up
  ip -n "$test" route add "$RANGE" via "10.$NET.2.3"
  ip netns exec "$assist" sysctl -qw net.ipv4.ip_forward=0
  ip netns exec "$test" sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
}

tcp_net_down() {
  ip link del "$1-a0" 2>/dev/null || true
  ip link del "$1-c0" 2>/dev/null || true
  ip netns del "$1-test" 2>/dev/null || true
  ip netns del "$1-assist" 2>/dev/null || true
}

# keepalive_capture PCAP REQUESTS PER_SESSION CONCURRENCY: makes PCAP once (kept for later runs with the same settings):
# ab -k against nginx-light on loopback, nginx ending each connection after PER_SESSION requests, recorded by tcpdump.
keepalive_capture() {
  local pcap="$1" requests="$2" per_session="$3" concurrency="$4" capture_key capture_port tcpdump_pid dropped
  capture_key="requests=$requests per-session=$per_session concurrency=$concurrency"
  if [ ! -s "$pcap" ] || [ ! -s "$OUT/capture.port" ] || [ "$(cat "$OUT/capture.key" 2>/dev/null)" != "$capture_key" ]; then
    rm -f "$pcap" "$OUT/capture.port" "$OUT/capture.key"
    capture_port="$(free_port)"
    # nginx ends each connection after per_session requests, so ab opens many short keep-alive sessions.
    start_nginx capture "$capture_port" "$per_session"
    log "capturing $requests requests (ab -k -c $concurrency, $per_session per connection) on 127.0.0.1:$capture_port"
    tcpdump -i lo -n -s 0 -B 262144 -w "$pcap.part" "tcp port $capture_port" 2> "$WORK/tcpdump.log" &
    tcpdump_pid=$!; PIDS+=("$tcpdump_pid")
    for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
    timeout 600 ab -q -k -c "$concurrency" -n "$requests" "http://127.0.0.1:$capture_port/api/items?page=1" > "$WORK/ab.log" 2>&1 \
      || { log "ab failed:"; tail -5 "$WORK/ab.log" >&2; exit 1; }
    sleep 1
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" 2>/dev/null || true
    grep -E 'packets (captured|received|dropped)' "$WORK/tcpdump.log" | sed "s/^/$BENCH: tcpdump: /" >&2
    dropped="$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/tcpdump.log")"
    [ "${dropped:-0}" = 0 ] || log "warning: tcpdump lost $dropped packets; the replay will count them as gaps"
    grep -E '^(Complete requests|Failed requests|Requests per second)' "$WORK/ab.log" | sed "s/^/$BENCH: ab: /" >&2
    keep_capture "$pcap" "$capture_port" "$capture_key"
  fi
}

# build_replay_jars: the replayer (always, so the run measures this tree) and, once, what forward and broker need;
# leaves the shell in $ROOT
build_replay_jars() {
  cd "$ROOT"
  log "building replayer"
  flock /tmp/tb-build.lock mvn -B -q -o -pl replayer -am package -DskipTests
  if ! ls capture-forwarder/target/trafficbus-capture-forwarder-*.jar >/dev/null 2>&1 \
      || ! ls standalone/target/trafficbus-standalone-*.jar >/dev/null 2>&1 || [ ! -d standalone/target/lib ]; then
    log "building capture-forwarder and standalone (forward and broker commands)"
    flock /tmp/tb-build.lock mvn -B -q -o -pl capture-forwarder,standalone -am package -DskipTests
  fi
}

# p1_capture_and_veth A B: P1's loopback HTTP capture (made once with bench/p1-forward.sh) in PCAP, its service port in
# HTTP_PORT; a veth pair A-B (MTU 9000, both up) that tcpreplay writes into at A and a capture reads at B, removed on
# exit. For the live-capture benches (P2).
p1_capture_and_veth() {
  PCAP="$ROOT/bench/out/p1/load.pcap"
  local port_file="$ROOT/bench/out/p1/load.port"
  if [ ! -s "$PCAP" ] || [ ! -s "$port_file" ]; then
    log "no P1 capture yet: running bench/p1-forward.sh once to make it"
    P1_RUNS=1 "$ROOT/bench/p1-forward.sh" >&2
  fi
  HTTP_PORT="$(cat "$port_file")"
  VETH_A=$1
  trap 'ip link del "$VETH_A" 2>/dev/null || true; cleanup' EXIT
  ip link add "$1" type veth peer name "$2"
  ip link set "$1" mtu 9000 up
  ip link set "$2" mtu 9000 up
}
