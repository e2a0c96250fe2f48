#!/usr/bin/env bash
# Makes the tcp-engine fixtures: real captures (tcpdump) of real traffic between two network namespaces.
# Needs root, iproute2, tcpdump, nginx-light, redis-server + redis-tools, curl, python3. See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d /tmp/tbfx.XXXXXX)"
SRV=tbfx-srv
CLI=tbfx-cli
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.3
    ip netns del "$SRV" 2>/dev/null || true
    ip netns del "$CLI" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$SRV"
ip netns add "$CLI"
ip link add tbfx-s type veth peer name tbfx-c
ip link set tbfx-s netns "$SRV"
ip link set tbfx-c netns "$CLI"
ip -n "$SRV" addr add 10.78.0.1/24 dev tbfx-s
ip -n "$CLI" addr add 10.78.0.2/24 dev tbfx-c
for ns in "$SRV" "$CLI"; do
    ip -n "$ns" link set lo up
done
ip -n "$SRV" link set tbfx-s up
ip -n "$CLI" link set tbfx-c up
# Segmentation offload would hand tcpdump packets larger than the MTU; a capture should look like the wire.
ip netns exec "$SRV" ethtool -K tbfx-s tso off gso off gro off 2>/dev/null || true
ip netns exec "$CLI" ethtool -K tbfx-c tso off gso off gro off 2>/dev/null || true

mkdir -p "$WORK/nginx/logs"
cp "$HERE/nginx.conf" "$WORK/nginx/nginx.conf"
ip netns exec "$SRV" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
ip netns exec "$SRV" redis-server --bind 10.78.0.1 --port 6379 --save '' --appendonly no \
    --protected-mode no --dir "$WORK" --daemonize no >/dev/null &
PIDS+=($!)
sleep 1

capture() { # file filter -- starts tcpdump in the server namespace
    ip netns exec "$SRV" tcpdump -U --immediate-mode -n -Z root -i tbfx-s -w "$WORK/$1" "$2" 2>/dev/null &
    TCPDUMP=$!
    sleep 1
}
stop_capture() {
    sleep 0.5
    kill -INT "$TCPDUMP"
    wait "$TCPDUMP" || true
}

# 20 short HTTP sessions, one request each (a new connection every time).
capture http-short.pcap 'tcp port 80'
for i in $(seq 1 20); do
    ip netns exec "$CLI" curl -s -o /dev/null "http://10.78.0.1/short?i=$i"
done
stop_capture

# One keep-alive connection carrying 10 requests.
capture http-keepalive.pcap 'tcp port 80'
urls=()
for i in $(seq 1 10); do urls+=("http://10.78.0.1/keep?i=$i"); done
ip netns exec "$CLI" curl -s "${urls[@]}" >/dev/null
stop_capture

# One POST with a 5000-byte body (larger than any MTU here, so it spans several segments).
capture http-post.pcap 'tcp port 80'
head -c 5000 /dev/zero | tr '\0' 'a' > "$WORK/body"
ip netns exec "$CLI" curl -s -H 'Expect:' --data-binary @"$WORK/body" "http://10.78.0.1/post?i=1" >/dev/null
stop_capture

# Redis: one connection incrementing a counter 30 times.
capture redis-incr.pcap 'tcp port 6379'
ip netns exec "$CLI" redis-cli -h 10.78.0.1 -r 30 INCR tb:counter >/dev/null
stop_capture

# A capture that starts mid-connection: request 1 is sent before tcpdump runs, 2..4 after.
cat > "$WORK/mid.py" <<'EOF'
import socket, sys, time
s = socket.create_connection(("10.78.0.1", 80))
def get(i):
    s.sendall(b"GET /mid?i=%d HTTP/1.1\r\nHost: 10.78.0.1\r\n\r\n" % i)
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"\n"):
        data += s.recv(65536)
get(1)
open(sys.argv[1], "w").write("ready")
time.sleep(3)
for i in (2, 3, 4):
    get(i)
    time.sleep(0.2)
s.close()
EOF
ip netns exec "$CLI" python3 "$WORK/mid.py" "$WORK/mid.ready" &
MID=$!
while [ ! -s "$WORK/mid.ready" ]; do sleep 0.1; done
capture http-mid.pcap 'tcp port 80'
wait "$MID"
stop_capture

for f in http-short.pcap http-keepalive.pcap http-post.pcap redis-incr.pcap http-mid.pcap; do
    cp "$WORK/$f" "$HERE/$f"
    echo "$f: $(tcpdump -r "$HERE/$f" 2>/dev/null | wc -l) packets"
done
