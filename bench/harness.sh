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
wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
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

# start_nginx NAME PORT KEEPALIVE_REQUESTS [BODY]: a foreground nginx-light (bench/p5-nginx.conf) with its own prefix
# under $WORK, answering BODY to every path (default ok and a newline; nginx reads \n in it as a newline).
start_nginx() {
  local dir="$WORK/nginx-$1" body="${4:-ok\\\\n}"
  mkdir -p "$dir"
  sed -e "s/@PORT@/$2/" -e "s/@KEEPALIVE_REQUESTS@/$3/" -e "s|@BODY@|$body|" "$ROOT/bench/p5-nginx.conf" > "$dir/nginx.conf"
  nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/stdout.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$2" 20
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
