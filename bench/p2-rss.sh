#!/usr/bin/env bash
# P2 memory: the resident memory of a live `forward --interface` as a production host sees it, beside GoReplay's
# forwarder (`gor --input-raw :PORT --output-tcp` into a `gor --input-tcp --output-null` aggregator) capturing the
# same veth at the same time. Both start with their defaults (bin/trafficbus's JVM settings for a live forward).
#   idle:         VmRSS 30 s after start, nothing captured yet, and where it is by mapping (/proc/PID/smaps)
#   after warm-up: VmRSS 10 s after P2_WARMUP_PACKETS at 50,000 packets/s (the JIT has compiled the hot path)
#   steady:       tcpreplay of P1's capture at P2_RSS_RATE packets/s for P2_RSS_MINUTES, VmRSS every 30 s; reports
#                 the first and last minute's largest sample, the growth between them and the slope (MB per minute)
#                 of the samples after the first two minutes. Goal: idle <= 80 MB, no growth.
#
#   sudo bench/p2-rss.sh       # needs root (veth pair, capture), tcpreplay; uses bench/out/p1/load.pcap (P1 makes it)
# Environment: P2_RSS_RATE (10000), P2_RSS_MINUTES (10), P2_WARMUP_PACKETS (600000),
#   TRAFFICBUS_PEERS (/opt/trafficbus-peers: bin/gor; without it GoReplay is left out)
set -euo pipefail

BENCH=p2-rss
source "$(dirname "$0")/harness.sh"
RATE="${P2_RSS_RATE:-10000}"
MINUTES="${P2_RSS_MINUTES:-10}"
WARMUP_PACKETS="${P2_WARMUP_PACKETS:-600000}"
GOR="${TRAFFICBUS_PEERS:-/opt/trafficbus-peers}/bin/gor"
[ -x "$GOR" ] || { log "no $GOR (set TRAFFICBUS_PEERS): GoReplay is left out"; GOR=""; }

[ "$(id -u)" = 0 ] || { log "needs root (veth pair, packet capture)"; exit 2; }
command -v tcpreplay >/dev/null || { log "needs tcpreplay"; exit 2; }
cd "$ROOT"
log "building capture-forwarder"
flock /tmp/tb-build.lock mvn -B -q -o -pl capture-forwarder -am package -DskipTests
VA="tbrssa$$"
VB="tbrssb$$"
p1_capture_and_veth "$VA" "$VB"
start_broker

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# breakdown FILE: where the resident set is, by mapping, from a copy of /proc/PID/smaps. "anonymous" is the heap, class
# metadata, compiled code, the C heap and stacks (`jcmd PID VM.native_memory summary` splits it when the JVM runs with
# -XX:NativeMemoryTracking=summary); the class archive counts whole, also the pages the JVM relocated at start.
breakdown() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6; sub(/^.*\//, "", n)
         k = (n == "" || n ~ /^\[/) ? "anonymous" : n ~ /^socket:/ ? "capture ring" : n ~ /\.jsa$/ ? "class archive" \
           : n == "libjvm.so" ? "libjvm" : "other files"; next }
       /^Rss:/ { v[k] += $2 }
       END { printf "anonymous %.1f MB, class archive %.1f MB, libjvm %.1f MB, capture ring %.1f MB, other files %.1f MB",
               v["anonymous"] / 1024, v["class archive"] / 1024, v["libjvm"] / 1024, v["capture ring"] / 1024, v["other files"] / 1024 }' "$1"
}

bin/trafficbus forward --interface "$VB" --port "$HTTP_PORT" --source p2-rss --bootstrap-servers "$BOOTSTRAP" \
  --status-interval 0 > "$WORK/forward.out" 2> "$WORK/forward.err" &
FWD=$!; PIDS+=("$FWD")
GOR_FWD=""
if [ -n "$GOR" ]; then
  AGG_PORT="$(free_port)"
  "$GOR" --input-tcp "127.0.0.1:$AGG_PORT" --output-null > "$WORK/gor-agg.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$AGG_PORT" 20
  # gor's own filter asks for the interface's address as destination; the replayed packets carry the capture's.
  "$GOR" --input-raw "$VB:$HTTP_PORT" --input-raw-bpf-filter "tcp port $HTTP_PORT" --output-tcp "127.0.0.1:$AGG_PORT" \
    > "$WORK/gor.log" 2>&1 &
  GOR_FWD=$!; PIDS+=("$GOR_FWD")
fi
deadline=$((SECONDS + 90))
until grep -q "capturing on $VB" "$WORK/forward.err"; do
  kill -0 "$FWD" 2>/dev/null && [ $SECONDS -lt $deadline ] || { log "forward did not start:"; cat "$WORK/forward.err" >&2; exit 1; }
  sleep 0.2
done
grep -o "resident memory at most [^;]*" "$WORK/forward.err" | sed "s/^/$BENCH: forward: /" >&2 || true
sleep 30
IDLE_F="$(rss_mb "$FWD")"; IDLE_G="${GOR_FWD:+$(rss_mb "$GOR_FWD")}"
cp "/proc/$FWD/smaps" "$WORK/smaps-idle"
log "idle 30 s after start: forward $IDLE_F MB${GOR_FWD:+, gor $IDLE_G MB} (load $(cut -d' ' -f1-3 /proc/loadavg))"
log "idle forward by mapping: $(breakdown "$WORK/smaps-idle")"

tcpreplay -K -i "$VA" --pps=50000 --limit="$WARMUP_PACKETS" --loop=0 "$PCAP" > "$WORK/warmup.log" 2>&1
sleep 10
WARM_F="$(rss_mb "$FWD")"; WARM_G="${GOR_FWD:+$(rss_mb "$GOR_FWD")}"
cp "/proc/$FWD/smaps" "$WORK/smaps-warm"
log "idle after $WARMUP_PACKETS packets: forward $WARM_F MB${GOR_FWD:+, gor $WARM_G MB} (load $(cut -d' ' -f1-3 /proc/loadavg))"
log "warmed-up forward by mapping: $(breakdown "$WORK/smaps-warm")"

SECS=$((MINUTES * 60))
tcpreplay -K -i "$VA" --pps="$RATE" --limit="$((RATE * SECS))" --loop=0 "$PCAP" > "$WORK/steady.log" 2>&1 &
REPLAY=$!; PIDS+=("$REPLAY")
: > "$WORK/samples"
for ((t = 30; t <= SECS; t += 30)); do
  sleep 30
  kill -0 "$FWD" 2>/dev/null || { log "forward ended:"; tail -5 "$WORK/forward.err" >&2; exit 1; }
  echo "$t $(rss_mb "$FWD") ${GOR_FWD:+$(rss_mb "$GOR_FWD")}" >> "$WORK/samples"
  log "t=${t}s forward $(rss_mb "$FWD") MB${GOR_FWD:+, gor $(rss_mb "$GOR_FWD") MB} (load $(cut -d' ' -f1 /proc/loadavg))"
done
wait "$REPLAY" || true
kill -TERM "$FWD"; wait "$FWD" || true
grep "^forward p2-rss" "$WORK/forward.out" | cut -c1-240 | sed "s/^/$BENCH: /" >&2 || true

summary() { # column name
  awk -v c="$1" -v name="$2" '
    { t[NR] = $1; v[NR] = $c }
    END {
      for (i = 1; i <= NR; i++) { if (t[i] <= 60 && v[i] > first) first = v[i]; if (t[i] > t[NR] - 60 && v[i] > last) last = v[i] }
      n = 0; for (i = 1; i <= NR; i++) if (t[i] > 120) { n++; sx += t[i]; sy += v[i]; sxx += t[i] * t[i]; sxy += t[i] * v[i] }
      slope = (n > 1 && n * sxx - sx * sx != 0) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60 : 0
      printf "%s: first minute %.1f MB, last minute %.1f MB, growth %+.1f MB, slope %+.2f MB/min", name, first, last, last - first, slope
    }' "$WORK/samples"
}
echo "P2-RSS idle: forward $IDLE_F MB${GOR_FWD:+, gor $IDLE_G MB}; after warm-up: forward $WARM_F MB${GOR_FWD:+, gor $WARM_G MB} (goal: forward idle <= 80 MB)"
echo "P2-RSS forward by mapping, idle: $(breakdown "$WORK/smaps-idle"); after warm-up: $(breakdown "$WORK/smaps-warm")"
echo "P2-RSS steady $RATE packets/s for $MINUTES min: $(summary 2 forward)${GOR_FWD:+; $(summary 3 gor)}"
echo "P2-RSS load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
