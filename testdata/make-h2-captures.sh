#!/usr/bin/env bash
# Makes the HTTP/2 fixtures from real traffic on loopback, captured by tcpdump on lo:
#   h2c-nginx.pcap    nginx-light with http2 (prior knowledge): nghttp fetching several paths on one
#                     connection and a POST with a body, then h2load (2 connections, 10 streams at once)
#   h2c-upgrade.pcap  h2c-server.go (Go's x/net/http2/h2c): nghttp -u (HTTP/1.1 Upgrade: h2c, then more
#                     requests as HTTP/2 on the upgraded connection)
#   grpc-calls.pcap   grpc-greeter.py (python3-grpcio) server and client: unary and server-streaming calls
# and <name>.expected beside each: "port N" and one "path COUNT" line per path the server saw.
# Needs root (tcpdump) and: nginx-light, nghttp2-client, python3-grpcio, golang-go, golang-golang-x-net-dev,
# tcpdump.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "make-h2-captures.sh: needs root (tcpdump)" >&2
    exit 2
fi
for tool in nginx nghttp h2load go tcpdump /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "make-h2-captures.sh: '$tool' is missing" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tbh2.XXXXXX)
chmod 755 "$WORK" # nginx workers run as nobody
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# tcpdump NAME PORT: starts a capture of the port; stop_capture NAME copies it out, refusing holes.
start_capture() {
    tcpdump -i lo -s 0 -B 262144 -U --immediate-mode -w "$WORK/$1.pcap" "tcp port $2" 2> "$WORK/$1.tcpdump" &
    CAPTURE=$!
    PIDS+=($CAPTURE)
    for _ in $(seq 50); do grep -qs 'listening on' "$WORK/$1.tcpdump" && break; sleep 0.1; done
}
stop_capture() {
    sleep 0.5
    kill -INT "$CAPTURE"
    wait "$CAPTURE" 2>/dev/null || true
    local dropped
    dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/$1.tcpdump")
    if [ "${dropped:-0}" != 0 ]; then
        echo "make-h2-captures.sh: tcpdump dropped $dropped packets of $1; run it again on a quieter machine" >&2
        exit 1
    fi
    cp "$WORK/$1.pcap" "$HERE/$1.pcap"
}

# 1. nginx with http2 on a plain port (prior knowledge).
PORT=$(free_port)
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/html/static"
for f in a b c d; do head -c 1500 /dev/urandom | base64 > "$WORK/nginx/html/static/$f.txt"; done
echo "a small file" > "$WORK/nginx/html/static/small.txt"
cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/logs/error.log;
events { worker_connections 64; }
http {
    access_log $WORK/nginx/logs/access.log;
    server {
        listen 127.0.0.1:$PORT http2;
        root $WORK/nginx/html;
        location = /echo { client_body_buffer_size 64k; return 201 "stored\n"; }
        location /api/ { default_type application/json; return 200 '{"ok":true}'; }
    }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$PORT"
start_capture h2c-nginx "$PORT"
nghttp -n "http://127.0.0.1:$PORT/static/a.txt" "http://127.0.0.1:$PORT/static/b.txt" \
    "http://127.0.0.1:$PORT/api/users/1" "http://127.0.0.1:$PORT/static/missing.txt"
head -c 20000 /dev/urandom > "$WORK/upload.bin"
nghttp -n -d "$WORK/upload.bin" "http://127.0.0.1:$PORT/echo"
h2load -n 200 -c 2 -m 10 --rps 500 "http://127.0.0.1:$PORT/static/small.txt" > "$WORK/h2load.out"
grep -q "200 succeeded" "$WORK/h2load.out" || { cat "$WORK/h2load.out" >&2; exit 1; }
stop_capture h2c-nginx
{ echo "port $PORT"; awk '{print $7}' "$WORK/nginx/logs/access.log" | sort | uniq -c | awk '{print $2, $1}'; } \
    > "$HERE/h2c-nginx.expected"

# 2. Go's h2c server: HTTP/1.1 Upgrade to h2c, then more requests on the upgraded connection.
PORT=$(free_port)
mkdir -p "$WORK/htdocs"
cp "$WORK/nginx/html/static/"*.txt "$WORK/htdocs/"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/gocache" go build -o "$WORK/h2c-server" "$HERE/h2c-server.go"
"$WORK/h2c-server" -listen "127.0.0.1:$PORT" -root "$WORK/htdocs" > "$WORK/h2c-server.log" &
PIDS+=($!)
wait_port "$PORT"
start_capture h2c-upgrade "$PORT"
nghttp -n -u "http://127.0.0.1:$PORT/a.txt" "http://127.0.0.1:$PORT/b.txt" "http://127.0.0.1:$PORT/c.txt"
nghttp -n -u "http://127.0.0.1:$PORT/d.txt"
stop_capture h2c-upgrade
{ echo "port $PORT"; awk '$1 == "request" {print $4}' "$WORK/h2c-server.log" | sort | uniq -c \
    | awk '{print $2, $1}'; } > "$HERE/h2c-upgrade.expected"

# 3. gRPC: grpc-greeter.py server and client.
PORT=$(free_port)
/usr/bin/python3 "$HERE/grpc-greeter.py" serve "$PORT" > "$WORK/grpc.log" 2>&1 &
PIDS+=($!)
wait_port "$PORT"
start_capture grpc-calls "$PORT"
/usr/bin/python3 "$HERE/grpc-greeter.py" calls "$PORT"
stop_capture grpc-calls
{ echo "port $PORT"; sed -n 's/^call \([^ ]*\) .*/\1/p' "$WORK/grpc.log" | sort | uniq -c | awk '{print $2, $1}'; } \
    > "$HERE/grpc-calls.expected"

head -n 100 "$HERE/h2c-nginx.expected" "$HERE/h2c-upgrade.expected" "$HERE/grpc-calls.expected" >&2
