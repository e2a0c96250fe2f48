#!/usr/bin/env bash
# P5d: answers of another size than production's must not slow a replay down. A keep-alive capture (ab -k
# against nginx-light answering "ok", plus curl sessions of several requests, on loopback, recorded by
# tcpdump) is replayed `--speed max --until-end` by each engine into two nginx-light targets: one
# answering exactly as production did ("same"), one answering a shorter body ("differs").
# Runs are interleaved (same, differs, same, differs, ...); the medians of the run times are compared.
# Goal: differs / same ≤ 1.1, and 0 answers judged by silence in the "differs" runs.
#
#   bench/p5d-answer-size.sh
# Environment: P5D_REQUESTS (2000 ab requests), P5D_CONCURRENCY (4 ab connections), P5D_CURL (4 curl sessions
#              of 20 requests), P5D_RUNS (3), P5D_REPLAYER_ROOT (a checkout whose bin/trafficbus replays,
#              default this one: set it to a checkout of an older commit to measure that one the same way),
#              P5D_ENGINES ("socket tcp" as root, else "socket"; the tcp engine runs through intercept
#              --with-payload in namespaces tbp5d-test and tbp5d-assist)
set -euo pipefail

BENCH=p5d
source "$(dirname "$0")/harness.sh"
REQUESTS="${P5D_REQUESTS:-2000}"
CONCURRENCY="${P5D_CONCURRENCY:-4}"
CURL_SESSIONS="${P5D_CURL:-4}"
RUNS="${P5D_RUNS:-3}"
REPLAYER_ROOT="${P5D_REPLAYER_ROOT:-$ROOT}"
LABEL="$(git -C "$REPLAYER_ROOT" log --oneline -1 2>/dev/null || echo "$REPLAYER_ROOT")"
PCAP="$OUT/capture.pcap"
# Both engines as root (the tcp engine needs namespaces and raw sockets), else the socket engine.
ENGINES="${P5D_ENGINES:-$([ "$(id -u)" = 0 ] && echo "socket tcp" || echo socket)}"
NET_UP=
p5d_cleanup() {
  cleanup
  [ -z "$NET_UP" ] || tcp_net_down "$NET_UP"
}
trap p5d_cleanup EXIT

for tool in nginx ab curl tcpdump python3; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, apache2-utils, curl, tcpdump, python3)"; exit 1; }
done

cd "$ROOT"
log "building replayer, capture-forwarder and standalone"
flock /tmp/tb-build.lock mvn -B -q -o -pl replayer,capture-forwarder,standalone -am package -DskipTests
if [ "$REPLAYER_ROOT" != "$ROOT" ]; then
  log "building the replayer of $LABEL"
  (cd "$REPLAYER_ROOT" && flock /tmp/tb-build.lock mvn -B -q -o -pl replayer -am package -DskipTests)
fi

# --- the capture: keep-alive load on loopback, recorded by tcpdump -------------------------------------
# Production answers a longer body than the "differs" target: a shorter answer never reaches the captured size,
# which is where guessing by size and silence costs (a longer one reaches it at once).
PRODUCTION_BODY='production answers with this body, longer than the test server does\\n'
CAPTURE_KEY="requests=$REQUESTS concurrency=$CONCURRENCY curl=$CURL_SESSIONS body=$PRODUCTION_BODY"
if [ ! -s "$PCAP" ] || [ "$(cat "$OUT/capture.key" 2>/dev/null)" != "$CAPTURE_KEY" ]; then
  rm -f "$PCAP" "$OUT/capture.port" "$OUT/capture.key"
  CAPTURE_PORT="$(free_port)"
  start_nginx capture "$CAPTURE_PORT" 1000000 "$PRODUCTION_BODY"
  tcpdump -i lo -n -s 0 -B 65536 -w "$PCAP.part" "tcp port $CAPTURE_PORT" 2> "$WORK/tcpdump.log" &
  TCPDUMP_PID=$!; PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
  log "capturing $REQUESTS requests (ab -k -c $CONCURRENCY) and $CURL_SESSIONS curl sessions of 20 requests"
  ab -q -k -c "$CONCURRENCY" -n "$REQUESTS" "http://127.0.0.1:$CAPTURE_PORT/api/items?page=1" > "$WORK/ab.log" 2>&1 \
    || { log "ab failed:"; tail -5 "$WORK/ab.log" >&2; exit 1; }
  for s in $(seq 1 "$CURL_SESSIONS"); do
    urls=()
    for k in $(seq 1 20); do urls+=("http://127.0.0.1:$CAPTURE_PORT/users/$s/orders/$k"); done
    curl -s "${urls[@]}" > /dev/null
  done
  sleep 1
  kill -INT "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" 2>/dev/null || true
  dropped="$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/tcpdump.log")"
  [ "${dropped:-0}" = 0 ] || { log "tcpdump lost $dropped packets; run again on a quieter machine"; exit 1; }
  keep_capture "$PCAP" "$CAPTURE_PORT" "$CAPTURE_KEY"
fi
CAPTURE_PORT="$(cat "$OUT/capture.port")"
log "capture: $PCAP ($(stat -c %s "$PCAP") bytes, service port $CAPTURE_PORT)"

# --- broker, topic ----------------------------------------------------------------------------------------
start_broker
publish_pcap "$PCAP" "$CAPTURE_PORT" p5d

# run_once ENGINE KIND HOST:PORT I [replay options...]: prints "seconds silence framing sent answered", read from
# the summary line (no --report: before the conversation policy a report made every session read HTTP, which
# hid the slow path users hit)
run_once() {
  local engine=$1 kind=$2 target=$3 i=$4
  shift 4
  "$REPLAYER_ROOT/bin/trafficbus" replay --topic tb.capture.p5d --target "$target" "$@" \
      --bootstrap-servers "$BOOTSTRAP" --speed max --until-end --group "p5d-$engine-$kind-$i-$$" \
      > "$WORK/$engine-$kind-$i.out" 2> "$WORK/$engine-$kind-$i.err" \
    || { log "replay ($engine, $kind, run $i) failed:"; cat "$WORK/$engine-$kind-$i.out" "$WORK/$engine-$kind-$i.err" >&2; exit 1; }
  python3 - "$WORK/$engine-$kind-$i.out" <<'PY'
import re, sys
line = next(l for l in open(sys.argv[1]) if l.startswith("replayed "))
secs = re.search(r"; ([0-9.]+) s, ", line).group(1)
sent, answered = re.search(r"(\d+) messages sent, (\d+) answered", line).groups()
judged = dict(re.findall(r"(\w+)=(\d+)", line.split("answers judged by", 1)[1].split(";")[0])) \
    if "answers judged by" in line else {}
print(secs, judged.get("silence", "n/a"), judged.get("framing", "n/a"), sent, answered)
PY
}

# measure ENGINE SAME_TARGET DIFFERS_TARGET [replay options...]: interleaved runs, medians, ratio
measure() {
  local engine=$1 same=$2 differs=$3 i secs silence framing sent answered
  shift 3
  local times_same=() times_differs=() silences=()
  for i in $(seq 1 "$RUNS"); do
    read -r secs silence framing sent answered < <(run_once "$engine" same "$same" "$i" "$@")
    log "$engine run $i same:    ${secs} s, $sent sent, $answered answered, judged by framing $framing, by silence $silence"
    times_same+=("$secs")
    read -r secs silence framing sent answered < <(run_once "$engine" differs "$differs" "$i" "$@")
    log "$engine run $i differs: ${secs} s, $sent sent, $answered answered, judged by framing $framing, by silence $silence"
    times_differs+=("$secs"); silences+=("$silence")
  done
  local m_same m_differs
  m_same="$(printf '%s\n' "${times_same[@]}" | median)"
  m_differs="$(printf '%s\n' "${times_differs[@]}" | median)"
  echo "P5d $engine engine, $REQUESTS + $((CURL_SESSIONS * 20)) keep-alive requests, --speed max: answers as production's: median ${m_same} s (runs: ${times_same[*]})"
  echo "P5d $engine engine, shorter answers: median ${m_differs} s (runs: ${times_differs[*]}); answers judged by silence per run: ${silences[*]}"
  awk -v d="$m_differs" -v s="$m_same" -v sil="${silences[*]}" -v e="$engine" 'BEGIN {
    r = d / s; ok = (r <= 1.1) && (sil ~ /^(0 ?)+$/)
    printf "P5d %s engine ratio shorter / same: %.2f (goal <= 1.1, 0 judged by silence) %s\n", e, r, (ok ? "OK" : "BELOW GOAL") }'
}

echo "P5d replayer: $LABEL"
for engine in $ENGINES; do
  if [ "$engine" = socket ]; then
    SAME_PORT="$(free_port)"
    start_nginx same "$SAME_PORT" 1000000 "$PRODUCTION_BODY"
    DIFFERS_PORT="$(free_port)"
    start_nginx differs "$DIFFERS_PORT" 1000000
    measure socket "127.0.0.1:$SAME_PORT" "127.0.0.1:$DIFFERS_PORT"
  else
    # The tcp engine: raw packets from a fake client range to nginx-light in namespace tbp5d-test; the answers
    # go via tbp5d-assist, where intercept relays them with their payload, so their framing can be read.
    NET=203 RANGE=10.97.0.0/16
    tcp_net_down tbp5d
    NET_UP=tbp5d
    tcp_net_up tbp5d
    NGINX_NS=tbp5d-test NGINX_ADDR="$TEST_IP" start_nginx tcp-same 80 1000000 "$PRODUCTION_BODY"
    NGINX_NS=tbp5d-test NGINX_ADDR="$TEST_IP" start_nginx tcp-differs 81 1000000
    head -c 24 /dev/urandom | base64 > "$WORK/token"
    ip netns exec tbp5d-assist "$ROOT/bin/trafficbus" intercept --interface tbp5d-b2 \
      --filter 'tcp and (src port 80 or src port 81)' --with-payload --listen "$INTERCEPT_IP:36524" \
      --token-file "$WORK/token" > "$WORK/intercept.log" 2>&1 &
    PIDS+=("$!")
    wait_port 36524 60 "$INTERCEPT_IP"
    measure tcp "$TEST_IP:80" "$TEST_IP:81" --engine tcp --client-range "$RANGE" \
      --intercept "$INTERCEPT_IP:36524" --token-file "$WORK/token"
  fi
done
