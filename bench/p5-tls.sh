#!/usr/bin/env bash
# P5-TLS: the keep-alive capture of P5 (ab -k against nginx-light, recorded by tcpdump; smaller by default) replayed
# with `replay --speed max --until-end` into nginx-light over TLS, beside the same replay over plain TCP, runs
# interleaved (plain, TLS with OpenSSL/BoringSSL, TLS with the JDK), replayer pinned to 2 cores.
# Goal: TLS at >= 0.7 x plain requests/s, 0 lost. Each session is one TLS connection, so sessions/s of a TLS run
# is its handshakes/s (sessions resume the TLS session nginx issued to the first, as returning clients do, and each run
# logs its full/resumed counts; P5T_PER_SESSION=1 makes every request a handshake).
#
#   bench/p5-tls.sh
# Environment: P5T_REQUESTS (30000: 9 runs stay under 5 minutes on a busy machine), P5T_PER_SESSION (10 requests per connection), P5T_CONCURRENCY (50),
#              P5T_RUNS (3), P5T_MAX_CONNECTIONS (replay --max-connections, 2000)
set -euo pipefail

BENCH=p5-tls
source "$(dirname "$0")/harness.sh"
REQUESTS="${P5T_REQUESTS:-30000}"
PER_SESSION="${P5T_PER_SESSION:-10}"
CONCURRENCY="${P5T_CONCURRENCY:-50}"
RUNS="${P5T_RUNS:-3}"
MAX_CONNECTIONS="${P5T_MAX_CONNECTIONS:-2000}"
GOAL=0.7
PCAP="$OUT/capture.pcap"

for tool in nginx ab tcpdump taskset python3 openssl; do
  command -v "$tool" >/dev/null || { log "needs $tool (Debian: nginx-light, apache2-utils, tcpdump, util-linux, python3, openssl)"; exit 1; }
done
log "load before: $(uptime)"

build_replay_jars

keepalive_capture "$PCAP" "$REQUESTS" "$PER_SESSION" "$CONCURRENCY"
CAPTURE_PORT="$(cat "$OUT/capture.port")"
log "capture: $PCAP ($(stat -c %s "$PCAP") bytes, service port $CAPTURE_PORT)"

# --- a test CA and a localhost certificate, made for this run only ---------------------------------------------
PKI="$WORK/pki"; mkdir -p "$PKI"
( cd "$PKI"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 1 \
      -subj "/CN=trafficbus bench CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj /CN=localhost
  echo "subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile server.ext
) > "$WORK/openssl.log" 2>&1 || { log "openssl failed:"; cat "$WORK/openssl.log" >&2; exit 1; }

start_broker
publish_pcap "$PCAP" "$CAPTURE_PORT" p5tls
sed 's/^/p5-tls: /' "$WORK/forward.log" >&2

PLAIN_PORT="$(free_port)"
start_nginx plain "$PLAIN_PORT" 1000000
TLS_PORT="$(free_port)"
start_nginx tls "$TLS_PORT" 1000000 "" "$PKI/server.pem" "$PKI/server.key"
log "target nginx on 127.0.0.1:$PLAIN_PORT (plain) and 127.0.0.1:$TLS_PORT (TLS)"

# run KIND I: one replay; prints "requests/s sessions/s lost"
run() {
  local kind="$1" i="$2" report="$OUT/$1-run$2.json"
  local target=(--target "127.0.0.1:$PLAIN_PORT")
  case "$kind" in
    openssl|jdk) target=(--target "https://127.0.0.1:$TLS_PORT" --target-ca "$PKI/ca.pem" --tls-server-name localhost
                         --tls-provider "$kind") ;;
  esac
  taskset -c 0,1 "$ROOT/bin/trafficbus" replay --topic tb.capture.p5tls "${target[@]}" \
      --bootstrap-servers "$BOOTSTRAP" --speed max --until-end --group "p5tls-$kind-$i-$$" \
      --max-connections "$MAX_CONNECTIONS" --report "$report" > "$WORK/$kind$i.out" 2> "$WORK/$kind$i.err" \
    || [ $? = 1 ] || { log "$kind run $i failed:"; cat "$WORK/$kind$i.out" "$WORK/$kind$i.err" >&2; exit 1; }
  # exit 1 (a session failed) is counted as lost below; anything else stops the bench
  sed "s/^/p5-tls: $kind run $i: /" "$WORK/$kind$i.out" >&2
  python3 - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, m = r["sessions"], r["messages"]
lost = (m["sent"] - m["answered"]) + s["failed"] + s["notReplayed"]
print(f'{m["sent"] / r["seconds"]:.0f} {(s["replayed"] + s["incomplete"]) / r["seconds"]:.0f} {lost}')
if r.get("tlsHandshakes"):
    print("TLS handshakes " + " ".join(f"{k}={v}" for k, v in r["tlsHandshakes"].items()), file=sys.stderr)
PY
}

declare -A RATE SESS LOST
for i in $(seq 1 "$RUNS"); do
  for kind in plain openssl jdk; do
    result="$(run "$kind" "$i")"
    read -r rate sess lost <<< "$result"
    RATE[$kind]+="$rate "; SESS[$kind]+="$sess "; LOST[$kind]=$(( ${LOST[$kind]:-0} + lost ))
  done
done

med() { printf '%s\n' $1 | median; }
P="$(med "${RATE[plain]}")"
for kind in plain openssl jdk; do
  printf 'P5-TLS %-7s median %6.0f requests/s, %5.0f sessions/s (TLS: handshakes/s); lost %d  (runs: %s)\n' \
    "$kind" "$(med "${RATE[$kind]}")" "$(med "${SESS[$kind]}")" "${LOST[$kind]}" "${RATE[$kind]% }"
done
for kind in openssl jdk; do
  awk -v t="$(med "${RATE[$kind]}")" -v p="$P" -v g="$GOAL" -v k="$kind" 'BEGIN {
    r = t / p; printf "P5-TLS ratio TLS (%s) / plain: %.2f (goal >= %.1f) %s\n", k, r, g, (r >= g ? "OK" : "BELOW GOAL") }'
done
echo "P5-TLS capture: $REQUESTS requests, $PER_SESSION per keep-alive session, replayer on cores 0,1 (taskset), nginx unpinned"
echo "P5-TLS load: $(uptime)"
